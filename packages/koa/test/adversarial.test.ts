import Koa from 'koa';
import { runAdversarial } from '../../../test/adversarial/run';
import { frameworkRelease } from '../../../test/peers/release';
import { makeApp } from './app';

// `koa` is Koa 3's newest release here, another release in the peer projects (jest.config.cjs).
runAdversarial(frameworkRelease('koa', require.resolve('koa')), makeApp(Koa));
