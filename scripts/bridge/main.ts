// CLI entry for the local Upstash REST bridge: `npm run bridge` (env REDIS_URL, BRIDGE_PORT, UPSTASH_REDIS_REST_TOKEN).
import { LOCAL_DEFAULTS as D } from '../lib/local-defaults.js';
import { startBridge } from './server.js';

const redisUrl = process.env.REDIS_URL ?? `redis://127.0.0.1:${D.redisPort}`;
const port = Number(process.env.BRIDGE_PORT ?? D.bridgePort);
const token = process.env.UPSTASH_REDIS_REST_TOKEN ?? D.redisToken;
const host = process.env.BRIDGE_HOST ?? '127.0.0.1';

if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(
    JSON.stringify({
      level: 'error',
      msg: 'BRIDGE_PORT must be an integer port',
      value: process.env.BRIDGE_PORT,
    }),
  );
  process.exit(2);
}

try {
  const bridge = await startBridge({ redisUrl, token, port, host });
  console.log(JSON.stringify({ level: 'info', msg: 'upstash redis bridge listening', url: bridge.url }));
  const stop = (signal: string) => {
    console.log(JSON.stringify({ level: 'info', msg: 'upstash redis bridge stopping', signal }));
    bridge.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(
          JSON.stringify({ level: 'error', msg: 'bridge did not close cleanly', error: String(err) }),
        );
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
} catch (err) {
  console.error(JSON.stringify({ level: 'error', msg: 'bridge failed to start', error: String(err) }));
  process.exit(1);
}
