// app/services/whoami/api/me/route.ts
import { route } from '@/lib/hub';

export const runtime = 'nodejs';
export const GET = route((hub) => hub.protect((request, { hubUser }) => Response.json(hubUser)));
export const POST = route((hub) =>
  hub.protect(async (request, { hubUser }) => {
    const form = await request.formData(); // the body is still yours: hubauth read a clone
    return Response.json({ saved: form.get('title'), by: hubUser.name });
  }),
);
