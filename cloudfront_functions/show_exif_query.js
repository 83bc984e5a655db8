// Shared by every viewer-request CloudFront Function (runtime cloudfront-js-2.0); generate.py puts this
// file ahead of each mode's handler file.
//
// One cache entry per object and answer: the only query that changes the answer is showExif=true, so
// the query is rewritten to exactly showExif=true or to nothing before CloudFront builds the cache key
// and the origin request. Any other spelling, extra parameter or value would otherwise make a new
// cache entry and a new transform run. The test matches the transform's own reading: a parameter
// whose name, percent-decoded, is exactly showExif and one of whose values, percent-decoded, is
// "true" in any letter case. CloudFront hands the query over as {name: {value, multiValue}}.

var SHOW_EXIF = 'showExif';

// A query name or value as a form decoder reads it ('+' is a space), or null for a malformed escape.
function decodedQueryPart(text) {
    try {
        return decodeURIComponent(String(text).replace(/\+/g, ' '));
    } catch (e) {
        return null;
    }
}

function isTrue(field) {
    var value = field && typeof field.value === 'string' ? decodedQueryPart(field.value) : null;
    return value !== null && value.toLowerCase() === 'true';
}

function asksForExif(querystring) {
    var names = Object.keys(querystring || {});
    for (var i = 0; i < names.length; i++) {
        if (decodedQueryPart(names[i]) !== SHOW_EXIF) {
            continue;
        }
        var parameter = querystring[names[i]];
        var fields = parameter && Array.isArray(parameter.multiValue) ? parameter.multiValue : [parameter];
        for (var j = 0; j < fields.length; j++) {
            if (isTrue(fields[j])) {
                return true;
            }
        }
    }
    return false;
}

function normaliseQuery(request) {
    var query = {};
    if (asksForExif(request.querystring)) {
        query[SHOW_EXIF] = {value: 'true'};
    }
    request.querystring = query;
}
