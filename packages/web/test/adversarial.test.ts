import { runAdversarial } from '../../../test/adversarial/run';
import { contractFetch, serveOnNode } from './app';

runAdversarial('web (fetch handlers on Node)', (options) => serveOnNode(contractFetch(options)));
