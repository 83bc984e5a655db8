// The query part of every viewer-request CloudFront Function: each mode's function, loaded as CloudFront
// runs it (viewer_request.mjs), rewrites the query to exactly showExif=true or to nothing, so that the
// cache key and the origin request hold one spelling per answer.
//
// Expectations are written by hand from the transform's reading of the query (name exact after
// percent-decoding, any value "true" in any letter case); `parse` turns a query as a viewer types it into
// the object CloudFront hands over ({name: {value, multiValue}}, names and values as they were sent).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { HANDLER_FILES, functionCode, loadHandler, viewerRequest } from './viewer_request.mjs';

const EXIF = { showExif: { value: 'true' } };
const NONE = {};
const MAX_FUNCTION_BYTES = 10 * 1024;

// CloudFront's querystring object for a raw query: one field per name, the first value in `value`,
// every value in `multiValue` when the name repeats.
function parse(rawQuery) {
    const fields = new Map();
    for (const pair of rawQuery === '' ? [] : rawQuery.split('&')) {
        const cut = pair.indexOf('=');
        const name = cut < 0 ? pair : pair.slice(0, cut);
        const value = cut < 0 ? '' : pair.slice(cut + 1);
        if (!fields.has(name)) {
            fields.set(name, { value });
        } else {
            const field = fields.get(name);
            field.multiValue = field.multiValue || [{ value: field.value }];
            field.multiValue.push({ value });
        }
    }
    // Own properties even for names such as __proto__, as CloudFront's object has them.
    return Object.fromEntries(fields);
}

// [raw query as the viewer sends it, the query CloudFront keys and forwards afterwards]
const QUERIES = [
    ['', NONE],
    ['showExif=true', EXIF],
    ['showExif=TRUE', EXIF],
    ['showExif=True', EXIF],
    ['showexif=true', NONE],            // the name is matched exactly, as the transform does
    ['SHOWEXIF=true', NONE],
    ['showExif=false', NONE],
    ['showExif=1', NONE],
    ['showExif=yes', NONE],
    ['showExif=', NONE],                // empty value
    ['showExif', NONE],                 // bare name
    ['showExif=true&x=1', EXIF],
    ['x=1&showExif=true', EXIF],
    ['x=1&showExif=true&showExif=false', EXIF],  // any value "true" counts, as in the transform
    ['showExif=false&showExif=TRUE', EXIF],
    ['showExif=true&showExif=true', EXIF],       // repeated
    ['showExif=false&showExif=false', NONE],
    ['showExif=%74rue', EXIF],          // percent-encoded value
    ['showExif=%54%52%55%45', EXIF],
    ['show%45xif=true', EXIF],          // percent-encoded name
    ['%73howExif=true', EXIF],
    ['show%65xif=true', NONE],          // decodes to showexif
    ['showExif=true%20', NONE],         // "true " is not "true"
    ['showExif=+true', NONE],           // '+' is a space
    ['showExif=%zz', NONE],             // malformed escape in the value
    ['%zz=true', NONE],                 // malformed escape in the name
    ['%zz=true&showExif=true', EXIF],
    ['showExif=true&range=bytes%3D0-9', EXIF],   // nothing else survives, not even range
    ['range=bytes%3D0-9', NONE],
    ['x=1&y=2&z', NONE],                // junk
    ['&&==&', NONE],
    ['showExif=tru', NONE],
    ['showExif=truee', NONE],
    ['showExif=true\u0000', NONE],
    ['showExif=%E2%80%8Btrue', NONE],   // a zero-width space in front
    ['showExif=%C3%BCtrue', NONE],
    ['__proto__=true&showExif=true', EXIF],
    ['constructor=x', NONE],
];

for (const [mode, file] of Object.entries(HANDLER_FILES)) {
    const handler = loadHandler(file);

    describe(`${mode}: the query becomes showExif=true or nothing`, () => {
        for (const [raw, expected] of QUERIES) {
            it(JSON.stringify(raw), () => {
                const event = viewerRequest('/photo.jpg', parse(raw));
                const result = handler(event);
                assert.equal(result, event.request, 'the request goes on to CloudFront');
                // The sandbox's objects come from another realm: compare their JSON.
                assert.deepEqual(JSON.parse(JSON.stringify(result.querystring)), expected);
                // Normalising twice changes nothing: the rewritten query is its own canonical form.
                const again = handler(viewerRequest('/photo.jpg', JSON.parse(JSON.stringify(result.querystring))));
                assert.deepEqual(JSON.parse(JSON.stringify(again.querystring)), expected);
            });
        }

        it('a field without multiValue or with a non-string value is not "true"', () => {
            for (const querystring of [
                { showExif: {} },
                { showExif: { value: null } },
                { showExif: { value: 'false', multiValue: [{ value: 'false' }, {}] } },
                { showExif: null },
            ]) {
                const result = handler(viewerRequest('/photo.jpg', querystring));
                assert.deepEqual(JSON.parse(JSON.stringify(result.querystring)), NONE);
            }
        });

        it('a missing querystring object becomes an empty one', () => {
            const event = viewerRequest('/photo.jpg');
            delete event.request.querystring;
            assert.deepEqual(JSON.parse(JSON.stringify(handler(event).querystring)), NONE);
        });

        it('method, headers and cookies are untouched', () => {
            const event = viewerRequest('/photo.jpg', parse('showExif=TRUE&x=1'));
            const before = structuredClone(event.request);
            const result = handler(event);
            for (const field of ['method', 'headers', 'cookies']) {
                assert.deepEqual(JSON.parse(JSON.stringify(result[field])), before[field], field);
            }
        });

        it(`fits CloudFront Functions' ${MAX_FUNCTION_BYTES}-byte limit`, () => {
            assert.ok(Buffer.byteLength(functionCode(file), 'utf8') < MAX_FUNCTION_BYTES);
        });
    });
}

describe('the S3 Object Lambda modes leave the path alone', () => {
    const handler = loadHandler(HANDLER_FILES['object-lambda']);
    for (const uri of ['/my%20photo.jpg', '/a+b.jpg', '/%zz.jpg', '/\u00fc.jpg']) {
        it(JSON.stringify(uri), () => {
            assert.equal(handler(viewerRequest(uri, parse('showExif=true'))).uri, uri);
        });
    }
});
