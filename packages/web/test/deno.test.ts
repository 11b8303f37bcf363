/** The contract and adversarial suites against `@hubauth/web` served by `Deno.serve`, over HTTP. */
import { runContract } from '../../../test/contract/run';
import { runAdversarial } from '../../../test/adversarial/run';
import { runtimeFactory } from '../../../test/runtimes';

jest.setTimeout(30_000);
runContract('web on Deno', runtimeFactory('deno', 'web'));
runAdversarial('web on Deno', runtimeFactory('deno', 'web'));
