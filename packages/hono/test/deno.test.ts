/** The contract and adversarial suites against `@hubauth/hono` (a Hono app) served by `Deno.serve`, over HTTP. */
import { runContract } from '../../../test/contract/run';
import { runAdversarial } from '../../../test/adversarial/run';
import { runtimeFactory } from '../../../test/runtimes';

jest.setTimeout(30_000);
runContract('hono on Deno', runtimeFactory('deno', 'hono'));
runAdversarial('hono on Deno', runtimeFactory('deno', 'hono'));
