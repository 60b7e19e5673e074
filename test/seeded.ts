/**
 * The same "random" numbers on every run (the C library's rand() recurrence), so that a failure
 * can be replayed: each call gives the next integer in [0, 2^31).
 */
export function seededRandom(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) % 2147483648)
}
