/**
 * `@hubauth/core/adapter`: the seam every framework adapter is built on. An adapter converts its
 * framework's request into a {@link HubRequest} (a {@link NodeRequestView} on Node), runs the
 * {@link HubAuthFlow} (`identifyCached` → `identify` → `guard`), leaves a {@link RequestCarrier}
 * on the request for its guards, and carries out each {@link FlowStep} (`next`, `respond`, `error`).
 * Core's own routes (OAuth callback, logout) are in {@link HubAuthFlow.routes} for adapters that
 * mount routes by path.
 *
 * @example
 * ```ts
 * import { createServer, type IncomingMessage } from 'node:http';
 * import type { TLSSocket } from 'node:tls';
 * import { HubAuthFlow, NodeRequestView, sendNode, type NodeRequestHooks } from '@hubauth/core/adapter';
 *
 * const flow = new HubAuthFlow();
 * const hooks: NodeRequestHooks<IncomingMessage> = {
 *   secure: (req) => (req.socket as TLSSocket).encrypted === true,
 *   ip: (req) => req.socket.remoteAddress,
 * };
 * createServer(async (req, res) => {
 *   const view = new NodeRequestView(req, req, hooks);
 *   const { step, state } = await flow.identify(view);
 *   if (step.type === 'respond') return sendNode(res, step.response);
 *   const guarded = flow.guard(state); // errors: 'respond' (default): next or respond
 *   if (guarded.type === 'respond') return sendNode(res, guarded.response);
 *   res.end(`hello ${state?.identity.user?.name}`);
 * }).listen(10101, '127.0.0.1');
 * ```
 *
 * @packageDocumentation
 * @module @hubauth/core/adapter
 */
export { HubAuthFlow, createHubAuth, freezeGuardOptions } from './flow';
export type { ErrorMode, FlowStep, HubAuthenticatedOptions, HubAuthMiddlewareOptions, RequestAuthState } from './flow';
export { HubCaller } from './caller';
export { CARRIER, carried, carry } from './carrier';
export type { Carrying, RequestCarrier } from './carrier';
export { NodeRequestView, appendSetCookie, sendNode } from './node';
export type { NodeRequestHooks } from './node';
export { refuseUpgrade, upgradeRequest } from '../upgrade';
export { WebHubRequest, clientAddress, identifyWebRequest, identifyWebView, needsFinishing, needsXsrfField, readXsrfField, splitAuthorization, toWebResponse, withSetCookies, finishWebResponse, MAX_XSRF_FORM_BYTES } from './web';
export type { WebRequestInit } from './web';
export { matchRoute } from '../routes';
export type { HubRoute, HubRouteName } from '../routes';
export type { HubRequest, HubRequestHeaders, HubResponse, HubUser } from '../types';
export type { Identity } from '../credentials';
