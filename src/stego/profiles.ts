/** The three embedding profiles (docs/method.md). */
export type ProfileName = 'paper' | 'fidelity' | 'robust';

export const PROFILE_NAMES: readonly ProfileName[] = Object.freeze(['paper', 'fidelity', 'robust']);

/** One-byte codes used inside embedded headers. */
export const PROFILE_CODES = Object.freeze({ paper: 1, fidelity: 2, robust: 3 } as const);

export function isProfileName(value: unknown): value is ProfileName {
  return typeof value === 'string' && (PROFILE_NAMES as readonly string[]).includes(value);
}
