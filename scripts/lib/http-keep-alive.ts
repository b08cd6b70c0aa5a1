// Keep-alive timing for our local HTTP servers: the client must always be the side that closes an idle connection.
import type { Server } from 'node:http';

/**
 * Node's servers close an idle keep-alive connection after 5 s, and fetch (undici) keeps one for about 4 s: on a
 * loaded machine both timers run late, and a request written on a connection the server is closing fails with
 * "other side closed". Servers that wait far longer than any client (65 s, as load balancers do) leave the choice
 * to the client, which never reuses a connection it has closed.
 */
export const SERVER_KEEP_ALIVE_MS = 65_000;

export function keepAliveLongerThanClients<S extends Server>(server: S): S {
  server.keepAliveTimeout = SERVER_KEEP_ALIVE_MS;
  // Must exceed keepAliveTimeout, or a slow request's headers are cut off on a reused connection.
  server.headersTimeout = SERVER_KEEP_ALIVE_MS + 1_000;
  return server;
}
