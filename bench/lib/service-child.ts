// A child process hosting one stand-in of a cloud service (the REST bridge or the QStash broker) behind its counting
// proxy, so their CPU is not the bench's and both cores work, as they would as separate services.
import { startBridge, type BridgeOptions } from '../../scripts/bridge/server.js';
import { startBroker, type BrokerOptions } from '../../scripts/broker/server.js';
import {
  countQStashMessages,
  countRedisCommands,
  startCountingProxy,
} from '../../test/helpers/counting-proxy.js';

export type ServiceStart =
  { kind: 'bridge'; options: BridgeOptions } | { kind: 'broker'; options: Omit<BrokerOptions, 'log'> };

export type ServiceRequest = { id: number } & (
  { cmd: 'start'; service: ServiceStart } | { cmd: 'counts' } | { cmd: 'reset' } | { cmd: 'close' }
);

export interface DeliveryTally {
  attempts: number;
  byOutcome: Record<string, number>;
}

let closeService: (() => Promise<void>) | undefined;
let proxy: Awaited<ReturnType<typeof startCountingProxy>> | undefined;
let deliveries: DeliveryTally = { attempts: 0, byOutcome: {} };

async function handle(req: ServiceRequest): Promise<unknown> {
  switch (req.cmd) {
    case 'start': {
      const s = req.service;
      if (s.kind === 'bridge') {
        const bridge = await startBridge(s.options);
        proxy = await startCountingProxy(bridge.url, countRedisCommands);
        closeService = () => bridge.close();
        return { url: bridge.url, proxyUrl: proxy.url };
      }
      const broker = await startBroker({
        ...s.options,
        log: (event) => {
          if (event.event !== 'delivery') return;
          deliveries.attempts++;
          deliveries.byOutcome[event.outcome] = (deliveries.byOutcome[event.outcome] ?? 0) + 1;
        },
      });
      proxy = await startCountingProxy(broker.url, countQStashMessages);
      closeService = () => broker.close();
      return { url: broker.url, proxyUrl: proxy.url };
    }
    case 'counts':
      return { rest: proxy?.counts(), deliveries };
    case 'reset':
      proxy?.reset();
      deliveries = { attempts: 0, byOutcome: {} };
      return {};
    case 'close':
      await proxy?.close();
      await closeService?.();
      return {};
  }
}

process.on('message', (msg) => {
  const req = msg as ServiceRequest;
  handle(req).then(
    (result) => {
      process.send?.({ id: req.id, ok: true, result }, () => {
        if (req.cmd === 'close') process.exit(0);
      });
    },
    (err: unknown) =>
      process.send?.({ id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
// The parent going away takes the service with it.
process.on('disconnect', () => process.exit(0));
