import Koa from 'koa';
import Koa2 from 'koa2';
import { runAdversarial } from '../../../test/adversarial/run';
import { makeApp } from './app';

runAdversarial('koa 3', makeApp(Koa));
runAdversarial('koa 2', makeApp(Koa2));
