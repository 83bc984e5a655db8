// The function-URL mode's viewer-request CloudFront Function (show_exif_query.js + encode_uri.js), run
// exactly as CloudFront runs it (see viewer_request.mjs). Its query part is tested in show_exif_query.test.mjs.
//
// Every expectation comes from this file: hand-written canonical paths and keys, and a byte-wise
// SigV4 encoder and percent-decoder written here from the SigV4 rules, sharing no code with the
// function (which relies on encodeURIComponent/decodeURIComponent).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { HANDLER_FILES, functionCode, loadHandler, viewerRequest } from './viewer_request.mjs';

const SOURCE = functionCode(HANDLER_FILES['function-url']);
// CloudFront Functions quota: 10 KB of code per function (Quotas on CloudFront Functions,
// AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html).
const MAX_FUNCTION_BYTES = 10 * 1024;

const handler = loadHandler(HANDLER_FILES['function-url']);

// --- Independent reference --------------------------------------------------------------------

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
// Canonical SigV4 path: unreserved characters, '/', and %XX with upper-case hex, nothing else.
const CANONICAL_PATH = /^(?:[A-Za-z0-9\-._~/]|%[0-9A-F]{2})*$/;

function referenceCanonical(key) {
    let out = '';
    for (const byte of new TextEncoder().encode(key)) {
        const c = String.fromCharCode(byte);
        out += (byte < 0x80 && (UNRESERVED.test(c) || c === '/'))
            ? c
            : '%' + byte.toString(16).toUpperCase().padStart(2, '0');
    }
    return out;
}

// Decode %XX escapes once (either case of hex), every other character as its UTF-8 bytes, then
// read the bytes as strict UTF-8: what a server that decodes the path once gets.
function percentDecodeOnce(text) {
    const bytes = [];
    for (let i = 0; i < text.length;) {
        if (text[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
            bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
            i += 3;
        } else {
            const cp = text.codePointAt(i);
            const ch = String.fromCodePoint(cp);
            bytes.push(...new TextEncoder().encode(ch));
            i += ch.length;
        }
    }
    return new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes));
}

function rewrite(uri) {
    const result = handler(viewerRequest(uri));
    assert.equal(typeof result.uri, 'string', `expected a request for ${JSON.stringify(uri)}, got ${JSON.stringify(result)}`);
    return result.uri;
}

// --- Key forms --------------------------------------------------------------------------------

// [uri as CloudFront hands it over, path the viewer meant (the uri decoded once), canonical uri]
const KEY_FORMS = [
    ['/my%20photo.jpg', '/my photo.jpg', '/my%20photo.jpg'],
    ['/a+b.jpg', '/a+b.jpg', '/a%2Bb.jpg'],
    ['/a%2Bb.jpg', '/a+b.jpg', '/a%2Bb.jpg'],
    ['/a%2bb.jpg', '/a+b.jpg', '/a%2Bb.jpg'],
    ['/photo(1).jpg', '/photo(1).jpg', '/photo%281%29.jpg'],
    ["/x!$&'*,;=@.jpg", "/x!$&'*,;=@.jpg", '/x%21%24%26%27%2A%2C%3B%3D%40.jpg'],
    ['/x%21%24%26%27%2a%2c%3b%3d%40.jpg', "/x!$&'*,;=@.jpg", '/x%21%24%26%27%2A%2C%3B%3D%40.jpg'],
    ['/~user.jpg', '/~user.jpg', '/~user.jpg'],
    ['/%7Euser.jpg', '/~user.jpg', '/~user.jpg'],
    ['/%C3%BC.jpg', '/\u00fc.jpg', '/%C3%BC.jpg'],
    ['/%c3%bc.jpg', '/\u00fc.jpg', '/%C3%BC.jpg'],
    ['/\u00fc.jpg', '/\u00fc.jpg', '/%C3%BC.jpg'],
    ['/a/b/c d.jpg', '/a/b/c d.jpg', '/a/b/c%20d.jpg'],
    ['/a/b/c%20d.jpg', '/a/b/c d.jpg', '/a/b/c%20d.jpg'],
    ['/albums/2024/summer%20trip/IMG_0001.JPG', '/albums/2024/summer trip/IMG_0001.JPG', '/albums/2024/summer%20trip/IMG_0001.JPG'],
    ['/ ', '/ ', '/%20'],
    ['/%20', '/ ', '/%20'],
    ['/', '/', '/'],
    ['/100%25.jpg', '/100%.jpg', '/100%25.jpg'],
    ['/%F0%9F%93%B7.jpg', '/\u{1F4F7}.jpg', '/%F0%9F%93%B7.jpg'],
    ['/\u65e5\u672c/\u5199\u771f.jpg', '/\u65e5\u672c/\u5199\u771f.jpg', '/%E6%97%A5%E6%9C%AC/%E5%86%99%E7%9C%9F.jpg'],
    ['/%E2%82%AC%20(1).jpg', '/\u20ac (1).jpg', '/%E2%82%AC%20%281%29.jpg'],
    ['/q%3Fx%23y.jpg', '/q?x#y.jpg', '/q%3Fx%23y.jpg'],
    // An escaped slash names the same key as a plain one once the path is decoded.
    ['/a%2Fb.jpg', '/a/b.jpg', '/a/b.jpg'],
];

describe('every key form reaches the origin in canonical form and decodes to the viewer\'s key', () => {
    for (const [uri, viewerPath, canonical] of KEY_FORMS) {
        it(JSON.stringify(uri), () => {
            const rewritten = rewrite(uri);
            assert.match(rewritten, CANONICAL_PATH, 'only unreserved characters, / and upper-case %XX');
            assert.ok(rewritten.startsWith('/'), 'CloudFront requires the uri to begin with /');
            assert.equal(rewritten, canonical);
            assert.equal(rewritten, referenceCanonical(viewerPath));
            // The Lambda decodes rawPath once: both ways of doing so give the viewer's key.
            assert.equal(percentDecodeOnce(rewritten), viewerPath);
            assert.equal(decodeURIComponent(rewritten), viewerPath);
            // The reference agrees that the viewer meant this key.
            assert.equal(percentDecodeOnce(uri), viewerPath);
        });
    }
});

describe('idempotent: the function leaves its own output as it is', () => {
    for (const [uri] of KEY_FORMS) {
        it(JSON.stringify(uri), () => {
            const once = rewrite(uri);
            assert.equal(rewrite(once), once);
        });
    }
});

// --- Generated keys ---------------------------------------------------------------------------

// A small seeded generator (mulberry32), so a failure names a reproducible key.
function generator(seed) {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

const ALPHABET = [
    ...Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)),
    '\u00fc', '\u00e9', '\u20ac', '\u65e5', '\u{1F4F7}', '\u0000', '\t',
];

// How a browser sends a path: letters, digits, - . _ ~, the sub-delimiters ! $ & ' ( ) * + , ; =
// and : @ / as they are; everything else (space, %, ?, #, quotes, control and non-ASCII characters)
// as UTF-8 escapes, here with random hex case.
const RAW_IN_BROWSER_PATH = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/]$/;

function browserForm(path, random) {
    let out = '';
    for (const ch of path) {
        if (RAW_IN_BROWSER_PATH.test(ch)) {
            out += ch;
            continue;
        }
        for (const byte of new TextEncoder().encode(ch)) {
            const hex = byte.toString(16).padStart(2, '0');
            out += '%' + (random() < 0.5 ? hex.toUpperCase() : hex);
        }
    }
    return out;
}

describe('generated keys in browser form', () => {
    const random = generator(20260314);
    const CASES = 500;
    it(`${CASES} keys: canonical, decode once to the key, idempotent`, () => {
        for (let n = 0; n < CASES; n++) {
            const length = 1 + Math.floor(random() * 12);
            let key = '';
            for (let i = 0; i < length; i++) {
                key += random() < 0.1 ? '/' : ALPHABET[Math.floor(random() * ALPHABET.length)];
            }
            const path = '/' + key;
            const uri = browserForm(path, random);
            assert.equal(percentDecodeOnce(uri), path, `test generator: ${JSON.stringify(uri)}`);
            const rewritten = rewrite(uri);
            const context = `key ${JSON.stringify(path)} sent as ${JSON.stringify(uri)}`;
            assert.match(rewritten, CANONICAL_PATH, context);
            assert.equal(rewritten, referenceCanonical(path), context);
            assert.equal(percentDecodeOnce(rewritten), path, context);
            assert.equal(rewrite(rewritten), rewritten, context);
        }
    });
});

// --- Malformed paths --------------------------------------------------------------------------

const MALFORMED = [
    '/%zz.jpg',       // not hex
    '/%',             // lone %
    '/abc%',
    '/%2',            // one hex digit
    '/100%.jpg',      // a literal % the viewer did not escape
    '/%C3',           // UTF-8 sequence cut short
    '/%E2%82',
    '/%C3%28',        // bad continuation byte
    '/%FF.jpg',       // never valid in UTF-8
    '/%C0%AF',        // overlong encoding of '/'
    '/%ED%A0%80',     // UTF-8 encoding of a surrogate
    '/%F4%90%80%80',  // above U+10FFFF
    '/\ud800.jpg',    // a lone surrogate: no UTF-8 form to encode
];

const BAD_REQUEST = { statusCode: 400, statusDescription: 'Bad Request' };

describe('a malformed escape or invalid UTF-8 gets a generated 400, never a throw', () => {
    for (const uri of MALFORMED) {
        it(JSON.stringify(uri), () => {
            const event = viewerRequest(uri);
            const result = handler(event);
            // The sandbox's objects come from another realm: compare their JSON.
            assert.deepEqual(JSON.parse(JSON.stringify(result)), BAD_REQUEST);
            assert.notEqual(result, event.request, 'a response, not the request, goes back to CloudFront');
        });
    }
});

// --- Everything but the uri is left alone ------------------------------------------------------

describe('only the uri and the query change', () => {
    it('method, headers and cookies are untouched; the query keeps showExif=true alone', () => {
        const querystring = {
            showExif: { value: 'true' },
            'a b': { value: 'c+d%20e', multiValue: [{ value: 'c+d%20e' }, { value: '%zz' }] },
            bare: { value: '' },
        };
        const event = viewerRequest('/my%20photo(1).jpg', querystring);
        const before = structuredClone(event.request);
        const result = handler(event);
        assert.equal(result, event.request, 'the same request object is returned');
        assert.equal(result.uri, '/my%20photo%281%29.jpg');
        assert.deepEqual(JSON.parse(JSON.stringify(result.querystring)), { showExif: { value: 'true' } });
        const { uri: _after, querystring: _queryAfter, ...restAfter } = result;
        const { uri: _before, querystring: _queryBefore, ...restBefore } = before;
        assert.deepEqual(JSON.parse(JSON.stringify(restAfter)), restBefore);
    });

    it('a malformed uri leaves the request as it was', () => {
        const event = viewerRequest('/%zz.jpg', { showExif: { value: 'true' } });
        const before = structuredClone(event.request);
        handler(event);
        assert.deepEqual(JSON.parse(JSON.stringify(event.request)), before);
    });
});

// --- The file CloudFront runs -----------------------------------------------------------------

describe('the function file', () => {
    it(`fits CloudFront Functions' ${MAX_FUNCTION_BYTES}-byte limit`, () => {
        assert.ok(Buffer.byteLength(SOURCE, 'utf8') < MAX_FUNCTION_BYTES);
    });

    it('uses nothing from Node.js (CloudFront has no require, module, exports, process or Buffer)', () => {
        const code = SOURCE.replace(/\/\/[^\n]*/g, '');
        for (const name of ['require', 'module', 'exports', 'process', 'Buffer', 'import']) {
            assert.doesNotMatch(code, new RegExp('\\b' + name + '\\b'), name);
        }
    });
});
