/** The contract and adversarial suites against `@hubauth/web` served by `Bun.serve`, over HTTP. */
import { runContract } from '../../../test/contract/run';
import { runAdversarial } from '../../../test/adversarial/run';
import { runtimeFactory } from '../../../test/runtimes';

jest.setTimeout(30_000);
runContract('web on Bun', runtimeFactory('bun', 'web'));
runAdversarial('web on Bun', runtimeFactory('bun', 'web'));
