/**
 * A real Hub, a real proxy, Bun or Deno and a real browser on two shared cores: a test may lose a race
 * it does not own (a navigation reported before its redirect settled). Each failing test is played
 * once more, with the first failure printed, so a real regression still fails and a flake is visible.
 */
jest.retryTimes(1, { logErrorsBeforeRetry: true });
