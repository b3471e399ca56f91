// Express 4, Koa 2 and Fastify 4 are installed under aliases to run the adapter suite on them too; their
// APIs used here match the current majors' types.
declare module 'express4' {
  import express from 'express';
  export default express;
}
declare module 'koa2' {
  import Koa from 'koa';
  export default Koa;
}
declare module 'fastify4' {
  import Fastify from 'fastify';
  export default Fastify;
}
