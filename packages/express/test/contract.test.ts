import express from 'express';
import express4 from 'express4';
import { runContract } from '../../../test/contract/run';
import { makeApp } from './app';

runContract('express 5', makeApp(express));
runContract('express 4', makeApp(express4));
