/** A short, safe description of any value, for error messages. */
export function describe(value: unknown): string {
  if (typeof value === "function") {
    return `function ${value.name || "(anonymous)"}`;
  }
  if (typeof value !== "object" || value === null) {
    return typeof value === "string" ? JSON.stringify(value) : String(value);
  }

  try {
    const json = JSON.stringify(value);
    if (json !== undefined) {
      return json.length > 60 ? `${json.slice(0, 57)}...` : json;
    }
  } catch {
    // Cycles and bigints fall through to the tag.
  }
  return Object.prototype.toString.call(value);
}
