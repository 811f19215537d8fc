/**
 * An AbortSignal that counts the abort listeners still registered on it, and
 * the most it ever held at once. A listener added with `once` leaves when
 * the signal aborts.
 */
export function trackedSignal() {
  const controller = new AbortController();
  const { signal } = controller;
  const listeners = new Map<EventListenerOrEventListenerObject, boolean>();
  let mostListeners = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  add("abort", () => {
    for (const [listener, once] of listeners) {
      if (once) listeners.delete(listener);
    }
  });
  Object.assign(signal, {
    addEventListener(
      type: string,
      listener: EventListenerOrEventListenerObject,
      options?: boolean | AddEventListenerOptions,
    ) {
      const once = typeof options === "object" && options.once === true;
      listeners.set(listener, once);
      mostListeners = Math.max(mostListeners, listeners.size);
      add(type, listener, options);
    },
    removeEventListener(
      type: string,
      listener: EventListenerOrEventListenerObject,
      options?: boolean | EventListenerOptions,
    ) {
      listeners.delete(listener);
      remove(type, listener, options);
    },
  });

  return {
    controller,
    signal,
    get listeners() {
      return listeners.size;
    },
    get mostListeners() {
      return mostListeners;
    },
  };
}
