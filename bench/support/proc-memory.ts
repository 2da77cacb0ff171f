/**
 * Memory and CPU time of another process, read from /proc: what the benches report for a server. The
 * server runs as a child process so that the client's buffers never count towards its figures.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export const MiB = 2 ** 20;

/** A `kB` field of /proc/<pid>/status, in bytes. */
export function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** CPU time (user, system) a process has used so far, in seconds, from /proc/<pid>/stat. */
export function procCpuSeconds(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at index 2 (state); utime is 13, stime 14.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = 100; // USER_HZ: 100 on every Linux architecture node runs on
  return { user: Number(fields[11]) / ticks, system: Number(fields[12]) / ticks };
}

/**
 * Samples a process's VmRSS every `intervalMs` until stopped. VmHWM is reset at the start
 * (clear_refs 5) so that the peak also catches spikes between samples, for this interval only.
 */
export class RssSampler {
  private peakBytes: number;
  private samples = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs = 50,
    private readonly onSample?: (rss: number) => void,
  ) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
    } catch {
      // Not permitted (hardened kernels): VmHWM then covers the process lifetime, an upper bound.
    }
    this.peakBytes = procStatus(pid, 'VmRSS');
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  private sample(): void {
    try {
      const rss = procStatus(this.pid, 'VmRSS');
      this.samples++;
      this.peakBytes = Math.max(this.peakBytes, rss);
      this.onSample?.(rss);
    } catch {
      // The process exited mid-run; the run itself reports why.
    }
  }

  /** Stops sampling; the peak of the samples and of VmHWM. */
  stop(): { peak: number; samples: number } {
    clearInterval(this.timer);
    try {
      this.peakBytes = Math.max(this.peakBytes, procStatus(this.pid, 'VmHWM'));
    } catch {
      // Already gone.
    }
    return { peak: this.peakBytes, samples: this.samples };
  }
}
