/**
 * The machine a benchmark ran on: cores, CPU model, memory, Node version.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';

/** Details printed with every run and stored in `results.json`. */
export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  /** 1, 5 and 15 minute load averages when read (other work on the machine skews timings). */
  loadAverage: number[];
  date: string;
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((text) => text.startsWith('model name'));
    return line ? line.slice(line.indexOf(':') + 1).trim() : 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Reads the machine details.
 *
 * @example
 * ```ts
 * console.log(machineInfo().cpuModel);
 * ```
 */
export function machineInfo(): MachineInfo {
  return {
    nproc: availableParallelism(),
    cpuModel: cpuModel(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    loadAverage: loadavg().map((value) => Math.round(value * 100) / 100),
    date: new Date().toISOString(),
  };
}
