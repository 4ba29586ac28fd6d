// A small hand-built SVG line chart: median response time against batch size, legacy and new, log-log.
import type { SizeResult } from "./compare.ts";
import { ms } from "./stats.ts";

const WIDTH = 720, HEIGHT = 460;
const LEFT = 80, RIGHT = 650, TOP = 60, BOTTOM = 380;
const SERIES = [
  { key: "legacy", label: "legacy: INSERT + awaited send per execution", color: "#c0392b" },
  { key: "new", label: "new: bulk insert + outbox, HTTP round trip", color: "#2166ac" },
] as const;

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function timeLabel(msValue: number): string {
  return msValue >= 1000 ? `${msValue / 1000} s` : `${msValue} ms`;
}

/** The chart of the medians in `results` (batch sizes on the x axis, both axes logarithmic). */
export function latencySvg(results: SizeResult[]): string {
  const sizes = results.map((r) => r.size);
  const values = results.flatMap((r) => [r.new.median, r.legacy.median]).filter((v) => v > 0);
  const xMin = Math.log10(Math.min(...sizes)), xMax = Math.log10(Math.max(...sizes));
  const yMin = Math.floor(Math.log10(Math.min(...values)));
  const yMax = Math.ceil(Math.log10(Math.max(...values)));
  const x = (size: number) => LEFT + (Math.log10(size) - xMin) / (xMax - xMin) * (RIGHT - LEFT);
  const y = (value: number) => BOTTOM - (Math.log10(value) - yMin) / (yMax - yMin) * (BOTTOM - TOP);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="16">` +
    `Median response time by batch size (both axes logarithmic)</text>`,
  ];
  for (let power = yMin; power <= yMax; power++) {
    const value = 10 ** power;
    parts.push(
      `<line x1="${LEFT}" x2="${RIGHT}" y1="${y(value)}" y2="${y(value)}" stroke="#ddd"/>`,
      `<text x="${LEFT - 8}" y="${y(value) + 4}" text-anchor="end">${timeLabel(value)}</text>`,
    );
  }
  for (const size of sizes) {
    parts.push(
      `<line x1="${x(size)}" x2="${x(size)}" y1="${TOP}" y2="${BOTTOM}" stroke="#eee"/>`,
      `<text x="${x(size)}" y="${BOTTOM + 18}" text-anchor="middle">${
        size.toLocaleString("en-US")
      }</text>`,
    );
  }
  parts.push(
    `<line x1="${LEFT}" x2="${RIGHT}" y1="${BOTTOM}" y2="${BOTTOM}" stroke="#333"/>`,
    `<line x1="${LEFT}" x2="${LEFT}" y1="${TOP}" y2="${BOTTOM}" stroke="#333"/>`,
    `<text x="${(LEFT + RIGHT) / 2}" y="${BOTTOM + 38}" text-anchor="middle">` +
      `executions per batch</text>`,
    `<text x="20" y="${(TOP + BOTTOM) / 2}" text-anchor="middle" ` +
      `transform="rotate(-90 20 ${(TOP + BOTTOM) / 2})">median response time</text>`,
  );
  SERIES.forEach((series, i) => {
    const points = results.map((r) => [x(r.size), y(r[series.key].median), r[series.key].median]);
    parts.push(
      `<polyline fill="none" stroke="${series.color}" stroke-width="2.5" points="${
        points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" ")
      }"/>`,
      ...points.map(([px, py, value]) =>
        `<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="4" fill="${series.color}"/>` +
        `<text x="${(px + 6).toFixed(1)}" y="${(py - 8).toFixed(1)}" fill="${series.color}" ` +
        `stroke="white" stroke-width="3" paint-order="stroke">${escape(ms(value))}</text>`
      ),
      `<rect x="${LEFT + 12}" y="${
        TOP + 8 + i * 20
      }" width="14" height="4" fill="${series.color}"/>`,
      `<text x="${LEFT + 32}" y="${TOP + 14 + i * 20}">${escape(series.label)}</text>`,
    );
  });
  const at1000 = results.find((r) => r.size === 1000);
  if (at1000) {
    parts.push(
      `<text x="${RIGHT}" y="${HEIGHT - 10}" text-anchor="end" fill="#555">` +
        `1,000 items: ${at1000.ratio.toFixed(1)}x faster, ${
          at1000.reduction.toFixed(1)
        } % less response time</text>`,
    );
  }
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}
