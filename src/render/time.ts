/** Dates as people read them. */
export function relativeTime(unixSeconds: number, now = Date.now() / 1000): string {
  const d = Math.max(0, Math.round(now - unixSeconds));
  if (d < 60) return 'just now';
  if (d < 3600) return `${Math.floor(d / 60)} min ago`;
  if (d < 86400) return `${Math.floor(d / 3600)} h ago`;
  return `${Math.floor(d / 86400)} days ago`;
}

/** `2026-11-23 21:10` in local time. */
export function shortDate(unixSeconds: number): string {
  const t = new Date(unixSeconds * 1000);
  const z = (n: number) => String(n).padStart(2, '0');
  return `${t.getFullYear()}-${z(t.getMonth() + 1)}-${z(t.getDate())} ${z(t.getHours())}:${z(t.getMinutes())}`;
}
