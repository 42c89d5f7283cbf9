/** Colour on terminals only; NO_COLOR and FORCE_COLOR win over ui.color. */
export interface Paint {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

export function useColor(stream: NodeJS.WriteStream, configColor = true, env = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return configColor && !!stream.isTTY && env.TERM !== 'dumb';
}

const wrap = (on: boolean, open: number, close: number) => (s: string) => (on ? `\x1b[${open}m${s}\x1b[${close}m` : s);

export function paint(on: boolean): Paint {
  return {
    green: wrap(on, 32, 39),
    red: wrap(on, 31, 39),
    yellow: wrap(on, 33, 39),
    bold: wrap(on, 1, 22),
    dim: wrap(on, 2, 22),
  };
}
