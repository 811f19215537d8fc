/**
 * Text helpers shared by the live table and the summary.
 *
 * @module
 */

/** How a column lines up. */
export type Align = "left" | "right";

/**
 * Lays `rows` out as columns two spaces apart, the first row being the
 * header; `align` gives each column's alignment (left by default).
 */
export function columns(
  rows: readonly (readonly string[])[],
  align: readonly Align[] = [],
): string[] {
  const widths = rows[0].map((_, column) =>
    Math.max(...rows.map((row) => [...(row[column] ?? "")].length))
  );

  return rows.map((row) =>
    row.map((cell, column) => {
      const padding = " ".repeat(widths[column] - [...cell].length);
      return align[column] === "right" ? padding + cell : cell + padding;
    }).join("  ").trimEnd()
  );
}

/** A whole number with thousands separators: `4,210`. */
export function count(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/** Milliseconds as seconds with one decimal: `31.2 s`. */
export function seconds(ms: number): string {
  return `${(ms / 1_000).toFixed(1)} s`;
}

/** A number with `digits` decimals, or `-` when it is not finite. */
export function fixed(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "-";
}

/** A ratio 0..1 as a whole percentage: `43 %`. */
export function percent(ratio: number): string {
  return Number.isFinite(ratio) ? `${Math.round(ratio * 100)} %` : "-";
}

/** The `p`th percentile (0..100) of `values` by nearest rank; NaN if none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;

  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}
