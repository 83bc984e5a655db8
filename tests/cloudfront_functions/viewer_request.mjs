// Loads a viewer-request CloudFront Function exactly as CloudFront runs it: the code generate.py puts in
// the template (the shared show_exif_query.js, a newline, then the mode's handler file) in a sandbox with
// only the ECMAScript built-ins (no require, module, process or Buffer), in strict mode.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';

const DIRECTORY = new URL('../../cloudfront_functions/', import.meta.url);
const SHARED = 'show_exif_query.js';

// Each mode's handler file: the function-URL mode's also rewrites the path; the S3 Object Lambda modes'
// touches the query only.
export const HANDLER_FILES = { 'function-url': 'encode_uri.js', 'object-lambda': 'query_only.js' };

export function functionCode(handlerFile) {
    return [SHARED, handlerFile].map((name) => readFileSync(new URL(name, DIRECTORY), 'utf8')).join('\n');
}

export function loadHandler(handlerFile) {
    const sandbox = vm.createContext({});
    // CloudFront runs functions in strict mode and that cannot be turned off.
    vm.runInContext('"use strict";\n' + functionCode(handlerFile), sandbox, { filename: handlerFile });
    assert.equal(typeof sandbox.handler, 'function', `${handlerFile} must define a top-level handler(event)`);
    return sandbox.handler;
}

export function viewerRequest(uri, querystring = {}) {
    return {
        version: '1.0',
        context: { eventType: 'viewer-request', distributionId: 'EDFDVBD6EXAMPLE', requestId: 'req-1' },
        viewer: { ip: '198.51.100.11' },
        request: {
            method: 'GET',
            uri,
            querystring,
            headers: { host: { value: 'd111111abcdef8.cloudfront.net' }, accept: { value: 'image/avif,image/*' } },
            cookies: {},
        },
    };
}
