/** What /proc tells about a process and the machine: memory and CPU time. Linux only. */
import { readFileSync } from 'node:fs';

/** Clock ticks per second in /proc/<pid>/stat and /proc/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** A `Vm*` field of /proc/<pid>/status in MB; NaN once the process is gone. */
export function memoryMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** CPU time (user + system, all threads) a process has used so far, in seconds. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself hold spaces and parentheses; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/** CPU time the whole machine has spent busy (every core, every process), in seconds. */
export function machineBusySeconds(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).map(Number);
  // user nice system idle iowait irq softirq steal ...: all but idle and iowait are busy.
  const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - ticks[3]! - ticks[4]!) / TICKS_PER_SECOND;
}

/** Samples a process's resident memory every few milliseconds and keeps the highest value. */
export class RssSampler {
  private readonly pid: number;
  private readonly timer: NodeJS.Timeout;
  peakMb = 0;
  samples = 0;

  constructor(pid: number, everyMs = 20) {
    this.pid = pid;
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  private sample(): void {
    const rss = memoryMb(this.pid, 'VmRSS');
    if (Number.isNaN(rss)) return;
    this.samples++;
    this.peakMb = Math.max(this.peakMb, rss);
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peakMb;
  }
}
