// Parent side of service-child.ts: start a bridge or broker in its own process, read and reset its counters, stop it.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { childExecArgv } from './child.js';
import type { RestCounts } from '../../test/helpers/counting-proxy.js';
import type { DeliveryTally, ServiceRequest, ServiceStart } from './service-child.js';

const ENTRY = fileURLToPath(new URL('./service-child.ts', import.meta.url));

type Body<T> = T extends unknown ? Omit<T, 'id'> : never;

export interface ServiceCounts {
  rest: RestCounts;
  deliveries: DeliveryTally;
}

export class ServiceProcess {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  /** Direct URL of the service. */
  url = '';
  /** URL of its counting proxy. */
  proxyUrl = '';

  private constructor(
    private readonly child: ChildProcess,
    kind: string,
  ) {
    child.on('message', (msg) =>
      this.settle(msg as { id: number; ok: boolean; result?: unknown; error?: string }),
    );
    child.on('exit', () => {
      for (const w of this.waiting.values()) w.reject(new Error(`${kind} process exited`));
      this.waiting.clear();
    });
  }

  static async start(service: ServiceStart): Promise<ServiceProcess> {
    const child = fork(ENTRY, [], {
      execArgv: childExecArgv(),
      env: { ...process.env, LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const running = new ServiceProcess(child, service.kind);
    const { url, proxyUrl } = (await running.request({ cmd: 'start', service })) as {
      url: string;
      proxyUrl: string;
    };
    running.url = url;
    running.proxyUrl = proxyUrl;
    return running;
  }

  private settle(msg: { id: number; ok: boolean; result?: unknown; error?: string }): void {
    const w = this.waiting.get(msg.id);
    if (!w) return;
    this.waiting.delete(msg.id);
    if (msg.ok) w.resolve(msg.result);
    else w.reject(new Error(msg.error ?? 'service request failed'));
  }

  private request(body: Body<ServiceRequest>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.send({ ...body, id });
    });
  }

  async counts(): Promise<ServiceCounts> {
    return (await this.request({ cmd: 'counts' })) as ServiceCounts;
  }

  async reset(): Promise<void> {
    await this.request({ cmd: 'reset' });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    await this.request({ cmd: 'close' }).catch(() => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
