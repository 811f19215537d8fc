/**
 * Renders a value for an error message: strings quoted, bigints with their
 * `n`, functions, arrays and objects named by kind, anything else as `String`
 * gives it (which never throws for these).
 */
export function show(value: unknown): string {
  return typeof value === "string"
    ? JSON.stringify(value)
    : typeof value === "function"
    ? "a function"
    : Array.isArray(value)
    ? "an array"
    : typeof value === "object" && value !== null
    ? "an object"
    : typeof value === "bigint"
    ? `${value}n`
    : String(value);
}
