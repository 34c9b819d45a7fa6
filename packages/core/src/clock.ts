/** Source of the current time. Tests pass a fake one; production uses the system clock. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
