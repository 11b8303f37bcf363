// The `express4` alias installs Express 4 next to Express 5 for the contract suite; its API is
// typed by @types/express.
declare module 'express4' {
  import express from 'express';
  export default express;
}
