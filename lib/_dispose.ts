const ASYNC_DISPOSE: symbol | undefined = typeof Symbol.asyncDispose ===
    "symbol"
  ? Symbol.asyncDispose
  : undefined;
const DISPOSE: symbol | undefined = typeof Symbol.dispose === "symbol"
  ? Symbol.dispose
  : undefined;

/**
 * The dispose method of `value`, `Symbol.asyncDispose` first, bound to it;
 * undefined when it is not disposable (or the runtime lacks the symbols).
 */
export function disposerOf(value: unknown): (() => unknown) | undefined {
  if (
    value === null || (typeof value !== "object" && typeof value !== "function")
  ) {
    return undefined;
  }

  const target = value as Record<symbol, unknown>;
  const dispose = (ASYNC_DISPOSE && target[ASYNC_DISPOSE]) ??
    (DISPOSE && target[DISPOSE]);
  return typeof dispose === "function" ? () => dispose.call(value) : undefined;
}
