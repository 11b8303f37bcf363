// next.config.mjs
/** @type {import('next').NextConfig} */
export default {
  // The Hub routes `/services/whoami/` here: serve it, rather than redirect to `/services/whoami`.
  skipTrailingSlashRedirect: true,
};
