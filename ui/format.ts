// How numbers, sizes, times and payloads read on screen.

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 2 : 1)} ${BYTE_UNITS[unit]}`;
}

export function formatCount(count: number): string {
  return Math.round(count).toLocaleString("en-US");
}

/** A rate per second, short: 1.2k/s, 48/s. */
export function formatRate(perSecond: number, unit = ""): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(1)}M${unit}/s`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)}k${unit}/s`;
  return `${perSecond < 10 ? perSecond.toFixed(1) : Math.round(perSecond)}${unit}/s`;
}

export function formatByteRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

export function formatTime(ms: number): string {
  if (ms < 0) return "—";
  const date = new Date(ms);
  return `${date.toLocaleDateString("sv-SE")} ${date.toLocaleTimeString("en-GB")}.${String(ms % 1000).padStart(3, "0")}`;
}

export type ValueView = "auto" | "text" | "hex";

/** A key or value as the fetch gave it (format json, text or base64), shown the way the user chose. */
export function renderPayload(payload: unknown, format: string | undefined, view: ValueView): string {
  if (payload === null || payload === undefined) return "null";
  if (view === "hex") return toHex(bytesOf(payload, format));
  if (format === "base64") {
    return view === "text" ? new TextDecoder().decode(bytesOf(payload, format)) : `base64:${payload}`;
  }
  if (format === "json") return view === "auto" ? JSON.stringify(payload, null, 2) : JSON.stringify(payload);
  return String(payload);
}

function bytesOf(payload: unknown, format: string | undefined): Uint8Array {
  if (format === "base64") {
    const binary = atob(String(payload));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  }
  const text = format === "json" ? JSON.stringify(payload) : String(payload);
  return new TextEncoder().encode(text);
}

function toHex(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const row = bytes.subarray(i, i + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, "0")).join(" ");
    const ascii = Array.from(row, (b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : ".")).join("");
    lines.push(`${i.toString(16).padStart(6, "0")}  ${hex.padEnd(47)}  ${ascii}`);
  }
  return lines.join("\n") || "(empty)";
}
