// A TCP endpoint that drops every connection at once: an "unreachable" service on a port this test owns (a port
// merely found free could be taken by another process before the request is made).
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface DeadEndpoint {
  readonly url: string;
  close(): Promise<void>;
}

export async function startDeadEndpoint(): Promise<DeadEndpoint> {
  const server = createServer((socket: Socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
