/**
 * `hubauth`: the command line of hubauth. `npx hubauth doctor` checks a service's set-up against its
 * JupyterHub; {@link runDoctor} does the same from code.
 *
 * @packageDocumentation
 * @module hubauth
 */
export { runDoctor } from './doctor';
export type { DoctorOptions } from './doctor';
export { formatReport } from './report';
export type { Check, CheckStatus, DoctorReport } from './report';
export { loadOptions } from './load-config';
export { fingerprint as cookieSecretFingerprint } from './checks/cookies';
