import Koa from 'koa';
import Koa2 from 'koa2';
import { runContract } from '../../../test/contract/run';
import { makeApp } from './app';

runContract('koa 3', makeApp(Koa));
runContract('koa 2', makeApp(Koa2));
