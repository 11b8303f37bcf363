import { describeWebsocketContract } from '../../../test/contract/websocket';
import { runtimeWebsocketFactory } from '../../../test/runtimes';

jest.setTimeout(30_000);

// Bun.serve: protect() guards the upgrade request, then the handler calls server.upgrade(request).
describeWebsocketContract('web on Bun.serve', runtimeWebsocketFactory('web'));
