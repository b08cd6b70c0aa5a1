// A candidate TCP port on loopback, picked by the kernel. It is released before the caller binds it, so another
// process may take it first: only for children that need a port number up front (redis-server, serverless-offline),
// and the caller retries on "address already in use". Servers of our own bind port 0 instead.
import { createServer } from 'node:net';

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('could not read the bound port'));
        return;
      }
      const { port } = addr;
      srv.close(() => resolve(port));
    });
  });
}
