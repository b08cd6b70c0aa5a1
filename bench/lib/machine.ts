// The machine a bench ran on, recorded with every result.
import { spawnSync } from 'node:child_process';
import os from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cpuCount: number;
  memoryGiB: number;
  platform: string;
  node: string;
  redisServer: string;
}

export function machineInfo(redisServer?: string): MachineInfo {
  const cpus = os.cpus();
  const fromCli = /v=(\S+)/.exec(
    spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout ?? '',
  )?.[1];
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    redisServer: redisServer ?? fromCli ?? 'unknown',
  };
}

export function describeMachine(m: MachineInfo): string {
  return `${m.cpuModel}, ${m.cpuCount} CPUs, ${m.memoryGiB} GiB RAM, ${m.platform}, Node ${m.node}, redis-server ${m.redisServer}`;
}
