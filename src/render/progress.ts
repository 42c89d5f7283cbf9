/**
 * Progress of long steps (linking torch's 21,000 files, undoing a big install): ONE interface,
 * made by the CLI or a lane and handed down to the code that does the work, which never prints
 * (uv's Reporter is the model). The terminal reporter draws one line on stderr, only on a
 * terminal, only once a step has run for `delayMs` (~1 s: short steps stay silent), and clears
 * it when the step ends; stdout never sees it.
 */

export interface Reporter {
  /** A step begins: `what` names it ("linking torch 2.13.0 into the store"); `total` when countable. */
  start(what: string, total?: number): Task;
}

export interface Task {
  /** `n` more units done; `what` renames the step (e.g. the package now being worked on). */
  tick(n?: number, what?: string): void;
  /** The step is over: its line is cleared. */
  end(): void;
}

const QUIET_TASK: Task = { tick() {}, end() {} };

/** 14622 -> "14,622". Not toLocaleString: its first call loads ICU's number data (45-200 ms here), on every undo and redo. */
export function thousands(n: number): string {
  return String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Reports nothing: pipes, --json, pip -q, tests. */
export const silentReporter: Reporter = { start: () => QUIET_TASK };

export interface TerminalOptions {
  /** Where to draw (stderr, given by the printer that makes the reporter). Nothing is drawn unless it is a TTY. */
  stream: NodeJS.WriteStream;
  /** Silent before a step has run this long. */
  delayMs?: number;
  /** Redraw at most this often. */
  everyMs?: number;
  now?: () => number;
}

/**
 * A one-line reporter for a terminal. The work it reports is synchronous (no timer could fire),
 * so the line is drawn from tick(): the caller ticks at least every few hundred files.
 */
export function terminalReporter(opts: TerminalOptions): Reporter {
  const { stream } = opts;
  if (!stream.isTTY) return silentReporter;
  const delay = opts.delayMs ?? 1000;
  const every = opts.everyMs ?? 100;
  const now = opts.now ?? Date.now;
  return {
    start(what: string, total?: number): Task {
      const began = now();
      let done = 0;
      let drawn = false;
      let last = 0;
      let label = what;
      const draw = () => {
        const t = now();
        if (t - began < delay || t - last < every) return;
        last = t;
        drawn = true;
        const count = total ? ` ${thousands(done)}/${thousands(total)}` : '';
        const secs = ` (${Math.floor((t - began) / 1000)} s)`;
        stream.write(`\r\x1b[Kpyctl: ${label}${count}${secs}`);
      };
      return {
        tick(n = 1, w?: string) {
          done += n;
          if (w) label = w;
          draw();
        },
        end() {
          if (drawn) stream.write('\r\x1b[K');
          drawn = false;
        },
      };
    },
  };
}
