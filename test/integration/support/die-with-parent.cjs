// Preloaded (`node --require …/die-with-parent.cjs`) into the external services the integration
// tests start themselves: the process exits as soon as the test process that started it is gone,
// so a killed or crashed test run leaves no service behind.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 500).unref();
