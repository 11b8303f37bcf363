/** `koa2` is a development alias of Koa 2 (`npm:koa@^2`); it has the same API as the typed `koa`. */
declare module 'koa2' {
  import Koa from 'koa';
  export default Koa;
}
