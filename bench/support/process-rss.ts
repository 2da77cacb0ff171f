/**
 * Peak resident memory of a server and its descendants, sampled from /proc while a case runs.
 *
 * The whole tree counts because a server may do its work in child processes (Feast's dask could,
 * with another scheduler); this kernel has no /proc/<pid>/task/<tid>/children, so the tree is
 * found by scanning every process's parent pid (under a millisecond for a few hundred processes).
 * A cap protects the shared machine: a server whose tree grows past it is killed with SIGKILL and
 * the case is reported as such, instead of the kernel's OOM killer picking some other process.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Parent pid of each running process. */
function parents(): Map<number, number> {
  const map = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name (2nd field) may hold spaces and parentheses: parse after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      map.set(Number(entry), ppid);
    } catch {
      // Exited between readdir and read.
    }
  }
  return map;
}

/** `pid` and all its descendants. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const [child, parent] of parents()) children.set(parent, [...(children.get(parent) ?? []), child]);
  const tree: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const next = stack.pop()!;
    tree.push(next);
    stack.push(...(children.get(next) ?? []));
  }
  return tree;
}

/** A `kB` field of /proc/<pid>/status in bytes; 0 when the process is gone. */
export function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export function treeRss(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + procStatus(p, 'VmRSS'), 0);
}

export interface RssWatch {
  /** Stops sampling; the peak seen, in bytes (at least the root's own VmHWM high-water mark). */
  stop(): number;
  /** True once the cap was crossed and the tree killed. */
  readonly capped: boolean;
  /** Seconds from the start of the watch to the kill. */
  readonly cappedAfterSeconds?: number;
}

/**
 * Samples the tree's RSS every `intervalMs`. The root's VmHWM backs the samples up (it catches a
 * spike between two samples); with a fresh server per case it covers just that case and startup.
 */
export function watchRss(pid: number, options: { intervalMs: number; capBytes: number }): RssWatch {
  const started = performance.now();
  let peak = treeRss(pid);
  let capped = false;
  let cappedAfterSeconds: number | undefined;
  const timer = setInterval(() => {
    const tree = processTree(pid);
    const rss = tree.reduce((sum, p) => sum + procStatus(p, 'VmRSS'), 0);
    peak = Math.max(peak, rss);
    if (!capped && rss > options.capBytes) {
      capped = true;
      cappedAfterSeconds = (performance.now() - started) / 1000;
      for (const p of tree.reverse()) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
  }, options.intervalMs);
  return {
    stop(): number {
      clearInterval(timer);
      return Math.max(peak, procStatus(pid, 'VmHWM'));
    },
    get capped() {
      return capped;
    },
    get cappedAfterSeconds() {
      return cappedAfterSeconds;
    },
  };
}
