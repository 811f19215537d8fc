/**
 * Keys of the methods that `service` calls on the breaker and the bulkhead to
 * take their admission itself on the fast path. Not exported from any public
 * module: they are not part of dyno's API.
 */

/** `Breaker[ADMIT_UNTIMED](signal?)`: see the breaker's method. */
export const ADMIT_UNTIMED: unique symbol = /* @__PURE__ */ Symbol();

/** `Bulkhead[TRY_ACQUIRE](signal?)`: see the bulkhead's method. */
export const TRY_ACQUIRE: unique symbol = /* @__PURE__ */ Symbol();

/** `Bulkhead[RELEASE](failed, error?)`: see the bulkhead's method. */
export const RELEASE: unique symbol = /* @__PURE__ */ Symbol();

/** `Service[WITHOUT_FALLBACK](operation, signal?)`: every layer but one. */
export const WITHOUT_FALLBACK: unique symbol = /* @__PURE__ */ Symbol();

/** `Service[FALL_BACK](run, signal?)`: the fallback around `run`. */
export const FALL_BACK: unique symbol = /* @__PURE__ */ Symbol();
