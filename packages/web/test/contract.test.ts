import { runContract } from '../../../test/contract/run';
import { contractFetch, serveOnNode } from './app';

runContract('web (fetch handlers on Node)', (options) => serveOnNode(contractFetch(options)));
