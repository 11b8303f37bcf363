/** The contract and adversarial suites against `@hubauth/hono` (a Hono app) served by `Bun.serve`, over HTTP. */
import { runContract } from '../../../test/contract/run';
import { runAdversarial } from '../../../test/adversarial/run';
import { runtimeFactory } from '../../../test/runtimes';

jest.setTimeout(30_000);
runContract('hono on Bun', runtimeFactory('bun', 'hono'));
runAdversarial('hono on Bun', runtimeFactory('bun', 'hono'));
