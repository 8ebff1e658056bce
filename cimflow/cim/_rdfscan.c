/*
 * cimflow's native reading path: one pass over the bytes of an RDF/XML document straight into the
 * per-mRID descriptions that cimflow/cim/descriptions.py builds from an lxml tree (the same objects,
 * values, kinds and lines; each value a Prop, which reads as the lxml path's tuple), without building a tree.
 *
 * It reads the shape CIM files have (rdf:RDF, flat object elements with rdf:ID or rdf:about, property
 * elements holding a literal or an rdf:resource) and checks well-formedness as it goes. Anything else
 * (a DOCTYPE, an encoding other than UTF-8, a namespace declared below the root, nested or typed
 * property values, CDATA, a syntax error of any kind) makes scan() return None, and the caller reads the
 * document with lxml, which reports the problem or keeps the construct verbatim. So this path never
 * accepts a document that the lxml path would refuse, and never resolves an entity or touches a DTD.
 *
 * Lines are those lxml reports: the line of the '>' that ends an element's start tag, counting '\n'.
 * Text is normalised as XML requires: CR LF and a lone CR become LF in text; in attribute values tab, CR
 * and LF become a space (character references are kept as written).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h> /* T_OBJECT_EX, READONLY */
#include <ctype.h>
#include <math.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h> /* valid_document_text's 16-byte steps; every x86-64 compiler has SSE2 */
#endif

#define OK 0
#define FALLBACK 1
#define ERROR (-1)
#define END 2 /* next_child: the element ended */

#define MAX_NAME 50000          /* libxml2's name length limit without huge_tree */
#define MAX_TEXT 10000000       /* libxml2's text node limit without huge_tree */
#define MAX_MARKUP 5000000      /* a comment, PI or start tag longer than this is left to lxml (libxml2
                                   refuses them from about 10,000,000 bytes without huge_tree) */
#define MAX_DEPTH 200           /* below libxml2's default nesting limit */
#define MAX_ATTRS 256
#define MAX_NS 256

static const char RDF_NS[] = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
static const char XML_NS[] = "http://www.w3.org/XML/1998/namespace";

enum { A_OTHER = 0, A_ID = 1, A_ABOUT = 2, A_RESOURCE = 3, A_XMLNS = 4 };

typedef struct Tag_ {
    const char *q;          /* qualified name as written (points into the document) */
    Py_ssize_t qlen;
    int is_attr;
    PyObject *clark;        /* "{uri}local" or "local" */
    PyObject *local;        /* local name (interned) */
    PyObject *uri;          /* namespace URI or NULL */
    int akind;              /* for attributes: A_* */
    int assoc;              /* local name is Class.Role with an upper-case role: an association */
    int is_header;          /* md:FullModel / dm:DifferenceModel */
    int seen_class, seen_pred, seen_hpred;
    struct Tag_ *next;      /* elements: the element tag that came next the last time this one came */
} Tag;

typedef struct {
    const char *q;
    Py_ssize_t qlen;
    Py_ssize_t vstart, vend; /* raw value span (between the quotes) */
    Tag *tag;                /* resolved later (NULL for namespace declarations on the root) */
} Attr;

typedef struct {
    const char *b;
    Py_ssize_t n, pos;
    Py_ssize_t line_pos;
    long line;
    /* namespaces declared on the root */
    int nns;
    const char *ns_pfx[MAX_NS];
    Py_ssize_t ns_plen[MAX_NS];
    PyObject *ns_uri[MAX_NS];
    PyObject *default_ns;
    /* tag table: open addressing on (qname, is_attr), of Tags allocated one by one, so that a Tag found
       stays where it is while the table grows (the object's Tag is used after its properties') */
    Tag **tags;
    size_t tcap, tcount;
    /* scratch for decoded text */
    char *sbuf;
    size_t scap;
    Attr attrs[MAX_ATTRS];
    int nattrs;
    int empty;               /* the last start tag was an empty-element tag */
    const char *tq;          /* name of the last start tag */
    Py_ssize_t tql;
    PyObject *header_tags, *cim_namespaces;
    int ascii;               /* every byte of the document is ASCII (valid_document_text) */
    Tag *prev;               /* the element tag next_child found last */
    Tag *last_attr;          /* the attribute tag resolve_attrs found last */
} Scanner;

/* ---------------------------------------------------------------- characters */

static inline int is_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
static inline int name_start(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':';
}
static inline int name_char(unsigned char c) {
    return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* UTF-8 well-formedness and XML 1.0 Char production over the whole document: 0 if it fails, 2 if every
   byte is ASCII (its text then needs no decoding), else 1. */
static int valid_document_text(const unsigned char *p, Py_ssize_t n) {
    Py_ssize_t i = 0;
    int ascii = 1;
#if defined(__SSE2__)
    const __m128i space = _mm_set1_epi8(0x20), tab = _mm_set1_epi8('\t'), lf = _mm_set1_epi8('\n');
    const __m128i cr = _mm_set1_epi8('\r');
#endif
    while (i < n) {
#if defined(__SSE2__)
        /* sixteen bytes at a time while all are ASCII characters allowed in XML, i.e. neither below 0x20
           (other than tab, LF, CR) nor from 0x80 (read as negative by the signed comparison); the byte loop
           below takes the first other byte. Byte by byte, this check of the 376 MB EQ of the 100k-bus feeder
           took 0.3-0.5 s; sixteen at a time, 0.05 s */
        while (n - i >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(p + i));
            __m128i low = _mm_cmplt_epi8(v, space);
            __m128i allowed = _mm_or_si128(_mm_cmpeq_epi8(v, tab),
                                           _mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr)));
            if (_mm_movemask_epi8(_mm_andnot_si128(allowed, low)))
                break;
            i += 16;
        }
        if (i >= n)
            break;
#endif
        unsigned char c = p[i];
        if (c < 0x80) {
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                return 0;
            i++;
            continue;
        }
        unsigned int cp;
        int len;
        ascii = 0;
        if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
        else return 0;
        if (i + len > n)
            return 0;
        for (int k = 1; k < len; k++) {
            unsigned char d = p[i + k];
            if ((d & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (d & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return 0;
        if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)
            return 0;
        i += len;
    }
    return ascii ? 2 : 1;
}

/* The first byte of [p, e) equal to a, b, c or d (repeat one to look for fewer), or e. The values and
   texts are searched this way for the few bytes that need work (references, "]]>", white space to
   normalise): most have none. */
static inline const char *find_any(const char *p, const char *e, char a, char b, char c, char d) {
#if defined(__SSE2__)
    const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b), vc = _mm_set1_epi8(c), vd = _mm_set1_epi8(d);
    while (e - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)p);
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)),
                                 _mm_or_si128(_mm_cmpeq_epi8(v, vc), _mm_cmpeq_epi8(v, vd)));
        int hit = _mm_movemask_epi8(m);
        if (hit)
            return p + __builtin_ctz((unsigned int)hit);
        p += 16;
    }
#endif
    for (; p < e; p++)
        if (*p == a || *p == b || *p == c || *p == d)
            return p;
    return e;
}

static inline int valid_char(unsigned long cp) {
    return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) ||
           (cp >= 0x10000 && cp <= 0x10FFFF);
}

/* A reference starting at p[0] == '&' within [p, e): its length (through ';') and its code point or
   predefined entity, or 0 if it is not one XML allows without a DTD. */
static Py_ssize_t reference(const char *p, const char *e, unsigned long *cp) {
    const char *q = p + 1;
    if (q < e && *q == '#') {
        q++;
        unsigned long v = 0;
        int digits = 0;
        if (q < e && *q == 'x') {
            q++;
            for (; q < e && *q != ';'; q++, digits++) {
                char c = *q;
                int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                        : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
                if (d < 0 || digits > 8)
                    return 0;
                v = v * 16 + (unsigned long)d;
            }
        } else {
            for (; q < e && *q != ';'; q++, digits++) {
                if (*q < '0' || *q > '9' || digits > 9)
                    return 0;
                v = v * 10 + (unsigned long)(*q - '0');
            }
        }
        if (q >= e || digits == 0 || !valid_char(v))
            return 0;
        *cp = v;
        return q - p + 1;
    }
    const char *s = q;
    while (q < e && *q != ';' && q - s < 5)
        q++;
    if (q >= e || *q != ';')
        return 0;
    Py_ssize_t k = q - s;
    if (k == 2 && s[0] == 'l' && s[1] == 't') *cp = '<';
    else if (k == 2 && s[0] == 'g' && s[1] == 't') *cp = '>';
    else if (k == 3 && memcmp(s, "amp", 3) == 0) *cp = '&';
    else if (k == 4 && memcmp(s, "quot", 4) == 0) *cp = '"';
    else if (k == 4 && memcmp(s, "apos", 4) == 0) *cp = '\'';
    else return 0;
    return q - p + 1;
}

/* Character data in [p, e) (no '<' inside): every reference valid and no "]]>". */
static int check_chardata(const char *p, const char *e) {
    for (const char *q = find_any(p, e, '&', ']', '&', ']'); q < e; q++) {
        if (*q == '&') {
            unsigned long cp;
            Py_ssize_t k = reference(q, e, &cp);
            if (!k)
                return 0;
            q += k - 1;
        } else if (*q == ']' && e - q >= 3 && q[1] == ']' && q[2] == '>') {
            return 0;
        }
    }
    return 1;
}

static int ensure_scratch(Scanner *s, size_t need) {
    if (need <= s->scap)
        return 1;
    size_t cap = s->scap ? s->scap : 256;
    while (cap < need)
        cap *= 2;
    char *nb = PyMem_Realloc(s->sbuf, cap);
    if (!nb) {
        PyErr_NoMemory();
        return 0;
    }
    s->sbuf = nb;
    s->scap = cap;
    return 1;
}

static size_t put_utf8(char *o, unsigned long cp) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The UTF-8 of text (attr = 0) or an attribute value (attr = 1) in [p, e), already checked, as XML reads it:
   the document's own bytes where nothing needs doing, else the scanner's scratch buffer (valid until the
   next call). 0, or -1 with an exception. */
static int decode_utf8(Scanner *s, const char *p, const char *e, int attr, const char **out, Py_ssize_t *n) {
    const char *q = attr ? find_any(p, e, '&', '\r', '\n', '\t') : find_any(p, e, '&', '\r', '&', '\r');
    if (q == e) {
        *out = p;
        *n = e - p;
        return 0;
    }
    if (!ensure_scratch(s, (size_t)(e - p) + 4))
        return -1;
    char *o = s->sbuf;
    memcpy(o, p, (size_t)(q - p));
    o += q - p;
    for (; q < e; q++) {
        char c = *q;
        if (c == '&') {
            unsigned long cp = 0;
            Py_ssize_t k = reference(q, e, &cp);
            o += put_utf8(o, cp);
            q += k - 1;
        } else if (c == '\r') {
            if (q + 1 < e && q[1] == '\n')
                q++;
            *o++ = attr ? ' ' : '\n';
        } else if (attr && (c == '\n' || c == '\t')) {
            *o++ = ' ';
        } else {
            *o++ = c;
        }
    }
    *out = s->sbuf;
    *n = o - s->sbuf;
    return 0;
}

/* The str of UTF-8 text checked by valid_document_text (ascii: every byte is ASCII). */
static PyObject *text_str(const char *p, Py_ssize_t n, int ascii) {
    if (!ascii)
        return PyUnicode_DecodeUTF8(p, n, "strict");
    PyObject *text = PyUnicode_New(n, 127); /* the bytes are the characters */
    if (text)
        memcpy(PyUnicode_1BYTE_DATA(text), p, (size_t)n);
    return text;
}

/* Decode text (attr = 0) or an attribute value (attr = 1) in [p, e), already checked, into a str. */
static PyObject *decode(Scanner *s, const char *p, const char *e, int attr) {
    const char *t;
    Py_ssize_t n;
    if (decode_utf8(s, p, e, attr, &t, &n) < 0)
        return NULL;
    return text_str(t, n, s->ascii && t == p);
}

/* ---------------------------------------------------------------- a property's value */

/* One value of a property as the reader keeps it: the tuple (value, kind, document, line) that the lxml
   path makes (cimflow.cim.descriptions.PropValue), in one object with the text's UTF-8 inline and the three
   numbers as C integers. For a 38-character reference the tuple, its str and its line cost 184 bytes in
   three allocations; this costs 80 in one (at 100k buses there are 4.8 million values). It reads as that
   tuple: pv[0] makes the str, it unpacks, compares, hashes and pickles as the tuple. */
typedef struct {
    PyObject_VAR_HEAD /* ob_size: the length of text in bytes */
    long long line;
    int di;
    unsigned char kind;
    unsigned char ascii; /* every byte of text is ASCII */
    char text[1];        /* NUL-terminated */
} Prop;

static PyTypeObject PropType;

static inline int is_prop(PyObject *o) { return Py_IS_TYPE(o, &PropType); }

static PyObject *prop_make(const char *t, Py_ssize_t n, int ascii, int kind, int di, long long line) {
    Prop *p = PyObject_NewVar(Prop, &PropType, n);
    if (!p)
        return NULL;
    p->line = line;
    p->di = di;
    p->kind = (unsigned char)kind;
    p->ascii = (unsigned char)ascii;
    memcpy(p->text, t, (size_t)n);
    p->text[n] = '\0';
    return (PyObject *)p;
}

static PyObject *prop_str(PyObject *o) {
    Prop *p = (Prop *)o;
    return text_str(p->text, Py_SIZE(p), p->ascii);
}

static PyObject *prop_item(PyObject *o, Py_ssize_t i) {
    Prop *p = (Prop *)o;
    switch (i) {
    case 0: return prop_str(o);
    case 1: return PyLong_FromLong(p->kind);
    case 2: return PyLong_FromLong(p->di);
    case 3: return PyLong_FromLongLong(p->line);
    default: PyErr_SetString(PyExc_IndexError, "Prop index out of range"); return NULL;
    }
}

static PyObject *prop_tuple(PyObject *o) {
    PyObject *t = PyTuple_New(4);
    for (Py_ssize_t i = 0; t && i < 4; i++) {
        PyObject *v = prop_item(o, i);
        if (!v)
            Py_CLEAR(t);
        else
            PyTuple_SET_ITEM(t, i, v);
    }
    return t;
}

static Py_ssize_t prop_length(PyObject *o) { (void)o; return 4; }

static PyObject *prop_subscript(PyObject *o, PyObject *key) {
    if (PyIndex_Check(key)) {
        Py_ssize_t i = PyNumber_AsSsize_t(key, PyExc_IndexError);
        if (i == -1 && PyErr_Occurred())
            return NULL;
        return prop_item(o, i < 0 ? i + 4 : i);
    }
    PyObject *t = prop_tuple(o); /* a slice: as the tuple's */
    PyObject *r = t ? PyObject_GetItem(t, key) : NULL;
    Py_XDECREF(t);
    return r;
}

static PyObject *prop_richcompare(PyObject *a, PyObject *b, int op) {
    if (!is_prop(b) && !PyTuple_Check(b))
        Py_RETURN_NOTIMPLEMENTED;
    if (is_prop(a) && is_prop(b) && (op == Py_EQ || op == Py_NE)) {
        Prop *x = (Prop *)a, *y = (Prop *)b;
        int eq = Py_SIZE(x) == Py_SIZE(y) && x->kind == y->kind && x->di == y->di && x->line == y->line &&
                 memcmp(x->text, y->text, (size_t)Py_SIZE(x)) == 0;
        return PyBool_FromLong(op == Py_EQ ? eq : !eq);
    }
    PyObject *ta = is_prop(a) ? prop_tuple(a) : Py_NewRef(a);
    PyObject *tb = ta ? (is_prop(b) ? prop_tuple(b) : Py_NewRef(b)) : NULL;
    PyObject *r = tb ? PyObject_RichCompare(ta, tb, op) : NULL;
    Py_XDECREF(ta);
    Py_XDECREF(tb);
    return r;
}

static Py_hash_t prop_hash(PyObject *o) {
    PyObject *t = prop_tuple(o);
    Py_hash_t h = t ? PyObject_Hash(t) : -1;
    Py_XDECREF(t);
    return h;
}

static PyObject *prop_repr(PyObject *o) {
    PyObject *t = prop_tuple(o);
    PyObject *r = t ? PyObject_Repr(t) : NULL;
    Py_XDECREF(t);
    return r;
}

static PyObject *prop_reduce(PyObject *o, PyObject *unused) {
    (void)unused;
    PyObject *t = prop_tuple(o);
    PyObject *r = t ? Py_BuildValue("(ON)", (PyObject *)Py_TYPE(o), t) : NULL;
    return r;
}

static PyObject *prop_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    (void)type;
    PyObject *value;
    int kind, di;
    long long line;
    static char *kw[] = {"value", "kind", "doc", "line", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "UiiL:Prop", kw, &value, &kind, &di, &line))
        return NULL;
    if (kind < 0 || kind > 255) {
        PyErr_SetString(PyExc_ValueError, "Prop: kind must be 0 to 255");
        return NULL;
    }
    Py_ssize_t n;
    const char *t = PyUnicode_AsUTF8AndSize(value, &n);
    if (!t)
        return NULL;
    return prop_make(t, n, PyUnicode_IS_ASCII(value), kind, di, line);
}

static PySequenceMethods prop_as_sequence = {.sq_length = prop_length, .sq_item = prop_item};
static PyMappingMethods prop_as_mapping = {.mp_length = prop_length, .mp_subscript = prop_subscript};
static PyMethodDef prop_methods[] = {
    {"__reduce__", prop_reduce, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject PropType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "cimflow.cim._rdfscan.Prop",
    .tp_basicsize = offsetof(Prop, text) + 1,
    .tp_itemsize = 1,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = PyDoc_STR("Prop(value, kind, doc, line): one property value as the native reader keeps it; reads, "
                        "compares, hashes and pickles as the tuple (value, kind, doc, line)"),
    .tp_new = prop_new,
    .tp_repr = prop_repr,
    .tp_hash = prop_hash,
    .tp_richcompare = prop_richcompare,
    .tp_as_sequence = &prop_as_sequence,
    .tp_as_mapping = &prop_as_mapping,
    .tp_methods = prop_methods,
};

/* A stored value's parts, from a Prop or a 4-tuple of the lxml path: its UTF-8 (*t, *n), its str where it
   has one (*value, borrowed; NULL for a Prop), kind and document. 0 if it is neither (several values, or
   not text with a UTF-8 form: the Python builder decides). */
static int stored_parts(PyObject *stored, const char **t, Py_ssize_t *n, PyObject **value, long *kind, long *doc) {
    if (is_prop(stored)) {
        Prop *p = (Prop *)stored;
        *t = p->text;
        *n = Py_SIZE(p);
        *value = NULL;
        *kind = p->kind;
        *doc = p->di;
        return 1;
    }
    if (!PyTuple_CheckExact(stored) || PyTuple_GET_SIZE(stored) != 4 || !PyUnicode_Check(PyTuple_GET_ITEM(stored, 0)))
        return 0;
    *value = PyTuple_GET_ITEM(stored, 0);
    *kind = PyLong_AsLong(PyTuple_GET_ITEM(stored, 1));
    *doc = PyLong_AsLong(PyTuple_GET_ITEM(stored, 2));
    if ((*kind == -1 || *doc == -1) && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    *t = PyUnicode_AsUTF8AndSize(*value, n);
    if (!*t) {
        PyErr_Clear();
        return 0;
    }
    return 1;
}

/* ---------------------------------------------------------------- lines */

static inline long line_at(Scanner *s, Py_ssize_t pos) {
    const char *p = s->b + s->line_pos, *e = s->b + pos;
    while (p < e) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        if (!nl)
            break;
        s->line++;
        p = nl + 1;
    }
    s->line_pos = pos;
    return s->line;
}

/* ---------------------------------------------------------------- names and tags */

/* seeded from the interpreter's str hash (PyInit), randomised per process like it: a document's names do
   not fall into the table the same way in every run */
static uint64_t name_seed;

/* Eight bytes at a time (a tag or attribute name is looked up for every element and attribute: byte by
   byte this hash was the reader's largest cost after the text check), then mixed so the low bits serve
   as the table index. */
static uint64_t hash_name(const char *q, Py_ssize_t n, int is_attr) {
    uint64_t h = name_seed ^ ((uint64_t)n << 1) ^ (uint64_t)is_attr, w;
    Py_ssize_t i = 0;
    for (; n - i >= 8; i += 8) {
        memcpy(&w, q + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    if (i < n) {
        w = 0;
        memcpy(&w, q + i, (size_t)(n - i));
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    h ^= h >> 29;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 32);
}

static int grow_tags(Scanner *s) {
    size_t ncap = s->tcap ? s->tcap * 2 : 512;
    Tag **nt = PyMem_Calloc(ncap, sizeof(Tag *));
    if (!nt) {
        PyErr_NoMemory();
        return 0;
    }
    for (size_t i = 0; i < s->tcap; i++) {
        Tag *t = s->tags[i];
        if (!t)
            continue;
        size_t j = hash_name(t->q, t->qlen, t->is_attr) & (ncap - 1);
        while (nt[j])
            j = (j + 1) & (ncap - 1);
        nt[j] = t;
    }
    PyMem_Free(s->tags);
    s->tags = nt;
    s->tcap = ncap;
    return 1;
}

/* Resolve a qualified name against the root's namespaces; *rc = FALLBACK if it cannot be. */
static Tag *lookup(Scanner *s, const char *q, Py_ssize_t n, int is_attr, int *rc) {
    if ((s->tcount + 1) * 2 > s->tcap && !grow_tags(s)) {
        *rc = ERROR;
        return NULL;
    }
    size_t mask = s->tcap - 1, j = hash_name(q, n, is_attr) & mask;
    while (s->tags[j]) {
        Tag *t = s->tags[j];
        if (t->qlen == n && t->is_attr == is_attr && memcmp(t->q, q, (size_t)n) == 0)
            return t;
        j = (j + 1) & mask;
    }
    /* a new name */
    const char *colon = memchr(q, ':', (size_t)n);
    const char *local = q;
    Py_ssize_t llen = n;
    PyObject *uri = NULL;
    int akind = A_OTHER;
    if (colon) {
        Py_ssize_t plen = colon - q;
        local = colon + 1;
        llen = n - plen - 1;
        if (plen == 0 || llen == 0 || memchr(local, ':', (size_t)llen) || !name_start((unsigned char)local[0])) {
            *rc = FALLBACK;
            return NULL;
        }
        if (plen == 5 && memcmp(q, "xmlns", 5) == 0) {
            *rc = FALLBACK; /* a namespace declared below the root */
            return NULL;
        }
        if (plen == 3 && memcmp(q, "xml", 3) == 0) {
            uri = PyUnicode_FromString(XML_NS);
        } else {
            for (int i = 0; i < s->nns; i++)
                if (s->ns_plen[i] == plen && memcmp(s->ns_pfx[i], q, (size_t)plen) == 0) {
                    uri = s->ns_uri[i];
                    Py_INCREF(uri);
                    break;
                }
            if (!uri) {
                *rc = FALLBACK; /* undeclared prefix */
                return NULL;
            }
        }
    } else if (is_attr) {
        if (n == 5 && memcmp(q, "xmlns", 5) == 0) {
            *rc = FALLBACK;
            return NULL;
        }
    } else if (s->default_ns) {
        uri = s->default_ns;
        Py_INCREF(uri);
    }
    if (!uri && PyErr_Occurred()) {
        *rc = ERROR;
        return NULL;
    }
    PyObject *loc = PyUnicode_FromStringAndSize(local, llen);
    if (!loc) {
        Py_XDECREF(uri);
        *rc = ERROR;
        return NULL;
    }
    PyUnicode_InternInPlace(&loc);
    PyObject *clark = uri ? PyUnicode_FromFormat("{%U}%U", uri, loc) : (Py_INCREF(loc), loc);
    if (!clark) {
        Py_XDECREF(uri);
        Py_DECREF(loc);
        *rc = ERROR;
        return NULL;
    }
    PyUnicode_InternInPlace(&clark);
    if (uri && is_attr && PyUnicode_CompareWithASCIIString(uri, RDF_NS) == 0) {
        if (llen == 2 && memcmp(local, "ID", 2) == 0) akind = A_ID;
        else if (llen == 5 && memcmp(local, "about", 5) == 0) akind = A_ABOUT;
        else if (llen == 8 && memcmp(local, "resource", 8) == 0) akind = A_RESOURCE;
    }
    int is_header = is_attr ? 0 : PySet_Contains(s->header_tags, clark);
    if (is_header < 0) {
        Py_XDECREF(uri);
        Py_DECREF(loc);
        Py_DECREF(clark);
        *rc = ERROR;
        return NULL;
    }
    const char *dot = memchr(local, '.', (size_t)llen);
    Tag *t = PyMem_Calloc(1, sizeof(Tag));
    if (!t) {
        Py_XDECREF(uri);
        Py_DECREF(loc);
        Py_DECREF(clark);
        PyErr_NoMemory();
        *rc = ERROR;
        return NULL;
    }
    s->tags[j] = t;
    t->q = q;
    t->qlen = n;
    t->is_attr = is_attr;
    t->clark = clark;
    t->local = loc;
    t->uri = uri;
    t->akind = akind;
    t->assoc = dot && dot > local && dot + 1 < local + llen && dot[1] >= 'A' && dot[1] <= 'Z';
    t->is_header = is_header;
    s->tcount++;
    return t;
}

/* A name at s->pos: its span, or FALLBACK. */
static int parse_name(Scanner *s, const char **q, Py_ssize_t *n) {
    const char *b = s->b;
    Py_ssize_t i = s->pos;
    if (i >= s->n || !name_start((unsigned char)b[i]))
        return FALLBACK;
    Py_ssize_t start = i++;
    while (i < s->n && name_char((unsigned char)b[i]))
        i++;
    if (i - start > MAX_NAME)
        return FALLBACK;
    *q = b + start;
    *n = i - start;
    s->pos = i;
    return OK;
}

static inline void skip_ws(Scanner *s) {
    while (s->pos < s->n && is_ws((unsigned char)s->b[s->pos]))
        s->pos++;
}

/* Whether the name of tag t is written at s->pos: its bytes, then a byte no name has (so not a longer
   name that begins with it). Such a name needs no parsing and no look-up. */
static inline int written_here(const Scanner *s, const Tag *t) {
    return t && s->n - s->pos > t->qlen && memcmp(s->b + s->pos, t->q, (size_t)t->qlen) == 0 &&
           !name_char((unsigned char)s->b[s->pos + t->qlen]);
}

/* The start tag at s->pos ('<' already consumed): name, attributes (values checked), '>' or '/>'. */
static int parse_attributes(Scanner *s);

static int parse_start_tag(Scanner *s) {
    int rc = parse_name(s, &s->tq, &s->tql);
    if (rc)
        return rc;
    return parse_attributes(s);
}

/* The rest of a start tag, after its name. */
static int parse_attributes(Scanner *s) {
    int rc;
    s->nattrs = 0;
    s->empty = 0;
    const char *b = s->b;
    for (;;) {
        Py_ssize_t before = s->pos;
        skip_ws(s);
        if (s->pos >= s->n || s->pos - (s->tq - b) > MAX_MARKUP)
            return FALLBACK;
        char c = b[s->pos];
        if (c == '>') {
            s->pos++;
            return OK;
        }
        if (c == '/') {
            if (s->pos + 1 < s->n && b[s->pos + 1] == '>') {
                s->pos += 2;
                s->empty = 1;
                return OK;
            }
            return FALLBACK;
        }
        if (s->pos == before || s->nattrs >= MAX_ATTRS)
            return FALLBACK; /* attributes must be separated by white space */
        Attr *a = &s->attrs[s->nattrs];
        /* the name of the last attribute resolved, if written here (as for element names in next_child) */
        Tag *known = s->last_attr;
        if (written_here(s, known)) {
            a->q = b + s->pos;
            a->qlen = known->qlen;
            s->pos += known->qlen;
        } else {
            known = NULL;
            if ((rc = parse_name(s, &a->q, &a->qlen)))
                return rc;
        }
        skip_ws(s);
        if (s->pos >= s->n || b[s->pos] != '=')
            return FALLBACK;
        s->pos++;
        skip_ws(s);
        if (s->pos >= s->n || (b[s->pos] != '"' && b[s->pos] != '\''))
            return FALLBACK;
        char quote = b[s->pos++];
        const char *v = b + s->pos, *end = memchr(v, quote, (size_t)(s->n - s->pos));
        if (!end || end - v > MAX_TEXT)
            return FALLBACK;
        const char *w = find_any(v, end, '<', '&', ']', '<'); /* most values have none of these */
        if (w < end && (memchr(w, '<', (size_t)(end - w)) || !check_chardata(w, end)))
            return FALLBACK;
        for (int k = 0; k < s->nattrs; k++)
            if (s->attrs[k].qlen == a->qlen && memcmp(s->attrs[k].q, a->q, (size_t)a->qlen) == 0)
                return FALLBACK; /* attribute given twice */
        a->vstart = v - b;
        a->vend = end - b;
        a->tag = known; /* NULL: resolve_attrs looks it up */
        s->pos = end - b + 1;
        s->nattrs++;
    }
}

/* Resolve the attributes of the last start tag; FALLBACK on a namespace declaration or a repeated
   expanded name. */
static int resolve_attrs(Scanner *s) {
    int rc = OK;
    for (int k = 0; k < s->nattrs; k++) {
        Attr *a = &s->attrs[k];
        if (!a->tag && !(a->tag = lookup(s, a->q, a->qlen, 1, &rc)))
            return rc;
        s->last_attr = a->tag;
        for (int m = 0; m < k; m++) {
            int eq = PyUnicode_Compare(s->attrs[m].tag->clark, a->tag->clark);
            if (eq == -1 && PyErr_Occurred())
                return ERROR;
            if (eq == 0)
                return FALLBACK;
        }
    }
    return OK;
}

/* "</name S? >" at s->pos ("</" already consumed) for the element named (q, n). */
static int parse_end_tag(Scanner *s, const char *q, Py_ssize_t n) {
    if (s->n - s->pos < n || memcmp(s->b + s->pos, q, (size_t)n) != 0)
        return FALLBACK;
    s->pos += n;
    if (s->pos < s->n && name_char((unsigned char)s->b[s->pos]))
        return FALLBACK;
    skip_ws(s);
    if (s->pos >= s->n || s->b[s->pos] != '>')
        return FALLBACK;
    s->pos++;
    return OK;
}

/* "<!--" already seen at s->pos - 1 ('<' consumed): skip the comment. */
static int skip_comment(Scanner *s) {
    const char *b = s->b;
    Py_ssize_t i = s->pos + 3; /* past "!--" */
    for (;;) {
        const char *d = i < s->n ? memchr(b + i, '-', (size_t)(s->n - i)) : NULL;
        if (!d || d + 1 >= b + s->n || d - (b + s->pos) > MAX_MARKUP)
            return FALLBACK;
        if (d[1] == '-') {
            if (d + 2 < b + s->n && d[2] == '>') {
                s->pos = d - b + 3;
                return OK;
            }
            return FALLBACK; /* "--" inside a comment */
        }
        i = d - b + 1;
    }
}

/* "<?" already seen ('<' consumed): skip a processing instruction (not an XML declaration). */
static int skip_pi(Scanner *s) {
    s->pos++; /* '?' */
    const char *q;
    Py_ssize_t n;
    int rc = parse_name(s, &q, &n);
    if (rc)
        return rc;
    if (n == 3 && (q[0] | 0x20) == 'x' && (q[1] | 0x20) == 'm' && (q[2] | 0x20) == 'l')
        return FALLBACK;
    if (memchr(q, ':', (size_t)n))
        return FALLBACK;
    if (s->pos < s->n && !is_ws((unsigned char)s->b[s->pos]) && s->b[s->pos] != '?')
        return FALLBACK;
    for (Py_ssize_t i = s->pos; i + 1 < s->n && i - s->pos <= MAX_MARKUP; i++)
        if (s->b[i] == '?' && s->b[i + 1] == '>') {
            s->pos = i + 2;
            return OK;
        }
    return FALLBACK;
}

/* Character data up to the next '<' (checked); *nonws tells whether any of it is not white space. */
static int text_until_lt(Scanner *s, const char **start, const char **end, int *nonws) {
    const char *p = s->b + s->pos, *e = memchr(p, '<', (size_t)(s->n - s->pos));
    if (!e)
        return FALLBACK;
    if (e - p > MAX_TEXT || !check_chardata(p, e))
        return FALLBACK;
    if (nonws) {
        *nonws = 0;
        for (const char *q = p; q < e; q++)
            if (!is_ws((unsigned char)*q)) {
                *nonws = 1;
                break;
            }
    }
    *start = p;
    *end = e;
    s->pos = e - s->b + 1; /* past '<' */
    return OK;
}

/* Skip the content and end tag of the element just started (for object elements cimflow keeps for the
   raw path), checking that it is well formed. */
static int skip_content(Scanner *s) {
    const char *stack_q[MAX_DEPTH];
    Py_ssize_t stack_n[MAX_DEPTH];
    int depth = 0, rc;
    stack_q[0] = s->tq;
    stack_n[0] = s->tql;
    depth = 1;
    while (depth) {
        const char *a, *e;
        if ((rc = text_until_lt(s, &a, &e, NULL)))
            return rc;
        if (s->pos >= s->n)
            return FALLBACK;
        char c = s->b[s->pos];
        if (c == '/') {
            s->pos++;
            depth--;
            if ((rc = parse_end_tag(s, stack_q[depth], stack_n[depth])))
                return rc;
        } else if (c == '!') {
            if (s->n - s->pos >= 3 && memcmp(s->b + s->pos, "!--", 3) == 0) {
                if ((rc = skip_comment(s)))
                    return rc;
            } else {
                return FALLBACK; /* CDATA and anything else: left to lxml */
            }
        } else if (c == '?') {
            if ((rc = skip_pi(s)))
                return rc;
        } else {
            if ((rc = parse_start_tag(s)))
                return rc;
            int r2 = OK;
            if (!lookup(s, s->tq, s->tql, 0, &r2))
                return r2;
            if ((rc = resolve_attrs(s)))
                return rc;
            if (!s->empty) {
                if (depth >= MAX_DEPTH)
                    return FALLBACK;
                stack_q[depth] = s->tq;
                stack_n[depth] = s->tql;
                depth++;
            }
        }
    }
    return OK;
}

/* ---------------------------------------------------------------- mRIDs */

/* a hex digit's lower-case form ('0'-'9', 'a'-'f', each with bit 0x20 set), 0 for any other byte */
static unsigned char hex_lower[256];

static void init_hex_lower(void) {
    for (int c = '0'; c <= '9'; c++)
        hex_lower[c] = (unsigned char)c;
    for (int c = 'a'; c <= 'f'; c++)
        hex_lower[c] = (unsigned char)c;
    for (int c = 'A'; c <= 'F'; c++)
        hex_lower[c] = (unsigned char)(c + 32);
}

/* cimflow.ids.normalise_mrid of the text p[:n] (ident is that text as a str, or NULL) in the common case; NULL
   without an exception where cimflow.ids must decide (empty, white space around, non-ASCII, control
   characters) */
static PyObject *normalise_plain(const char *p, Py_ssize_t n, PyObject *ident) {
    if (n == 0 || is_ws((unsigned char)p[0]) || is_ws((unsigned char)p[n - 1]) || (unsigned char)p[0] < 0x20 ||
        (unsigned char)p[n - 1] < 0x21)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++)
        if ((unsigned char)p[i] >= 0x80 || (unsigned char)p[i] < 0x20)
            return NULL;
    const char *h = NULL;
    for (Py_ssize_t i = n; i-- > 0;)
        if (p[i] == '#') {
            h = p + i;
            break;
        }
    const char *v = p;
    Py_ssize_t m = n;
    if (h) {
        v = h + 1;
        m = n - (v - p);
    } else if (n >= 9) {
        static const char urn[] = "urn:uuid:";
        int is_urn = 1;
        for (int k = 0; k < 9; k++)
            if ((p[k] | (p[k] >= 'A' && p[k] <= 'Z' ? 0x20 : 0)) != urn[k]) {
                is_urn = 0;
                break;
            }
        if (is_urn) {
            v = p + 9;
            m = n - 9;
        }
    }
    if (m > 0 && v[0] == '_') {
        v++;
        m--;
    }
    if (m == 36 && v[8] == '-' && v[13] == '-' && v[18] == '-' && v[23] == '-') {
        /* lower-cased through a table, without a branch per digit: random hex digits defeat the branch
           predictor (a third of this function's samples were at that branch) */
        static const int groups[5][2] = {{0, 8}, {9, 13}, {14, 18}, {19, 23}, {24, 36}};
        char low[36];
        unsigned char all = 0xFF;
        for (int g = 0; g < 5; g++)
            for (int k = groups[g][0]; k < groups[g][1]; k++) {
                unsigned char c = hex_lower[(unsigned char)v[k]];
                all &= c;
                low[k] = (char)c;
            }
        low[8] = low[13] = low[18] = low[23] = '-';
        if (all & 0x20) /* every entry of a hex digit has bit 0x20 set; 0 marks anything else */
            return PyUnicode_FromStringAndSize(low, 36);
    }
    if (v == p && m == n && ident) {
        Py_INCREF(ident);
        return ident;
    }
    return PyUnicode_FromStringAndSize(v, m);
}

static PyObject *s_cim_class, *s_mrid, *s_rank, *s_props, *s_doc, *s_line, *s_ident;
static PyObject *s_dict, *s_fields_set, *s_extra, *s_private, *s_source, *s_file, *s_empty_tuple;
static PyObject *s_copy, *s_update, *s_digest;

/* Slots of the records read and written here (MergedObject, SourceRef, OpaqueObject), by offset: the
   generic attribute protocol (a type lookup and a descriptor call per access) was a tenth of the merge
   and build. The offset of (type, name) is found once from the type's member descriptor and kept with a
   reference to the type; names are the interned s_* strings above, compared by identity. Anything that
   is not a plain object slot (a property, __dict__, a type not seen) takes the generic protocol. */
#define SLOT_CACHE_SIZE 32
static struct {
    PyTypeObject *type;
    PyObject *name;
    Py_ssize_t offset; /* -1: not a plain slot */
} slot_cache[SLOT_CACHE_SIZE];
static int n_slot_cache;

static Py_ssize_t slot_offset(PyTypeObject *type, PyObject *name) {
    for (int i = 0; i < n_slot_cache; i++)
        if (slot_cache[i].type == type && slot_cache[i].name == name)
            return slot_cache[i].offset;
    Py_ssize_t offset = -1;
    PyObject *descr = _PyType_Lookup(type, name); /* borrowed, no error set */
    /* a member descriptor of this type or a base (an instance of another type borrowing a descriptor is left
       to the generic protocol, which refuses it) */
    if (descr && Py_IS_TYPE(descr, &PyMemberDescr_Type) && PyType_IsSubtype(type, PyDescr_TYPE(descr))) {
        PyMemberDef *m = ((PyMemberDescrObject *)descr)->d_member;
        if (m->type == T_OBJECT_EX && !(m->flags & READONLY))
            offset = m->offset;
    }
    if (n_slot_cache < SLOT_CACHE_SIZE) {
        slot_cache[n_slot_cache].type = (PyTypeObject *)Py_NewRef(type);
        slot_cache[n_slot_cache].name = Py_NewRef(name);
        slot_cache[n_slot_cache].offset = offset;
        n_slot_cache++;
    }
    return offset;
}

/* getattr(obj, name), a new reference (NULL with an exception set, as PyObject_GetAttr). */
static PyObject *slot_get(PyObject *obj, PyObject *name) {
    Py_ssize_t offset = slot_offset(Py_TYPE(obj), name);
    if (offset >= 0) {
        PyObject *v = *(PyObject **)((char *)obj + offset);
        if (v)
            return Py_NewRef(v);
    }
    return PyObject_GetAttr(obj, name); /* also raises the AttributeError of an empty slot */
}

/* object.__setattr__(obj, name, value): a slot is written directly, bypassing a frozen class's
   __setattr__ as PyObject_GenericSetAttr does. */
static int slot_set(PyObject *obj, PyObject *name, PyObject *value) {
    Py_ssize_t offset = slot_offset(Py_TYPE(obj), name);
    if (offset < 0)
        return PyObject_GenericSetAttr(obj, name, value);
    PyObject **slot = (PyObject **)((char *)obj + offset);
    PyObject *old = *slot;
    *slot = Py_NewRef(value);
    Py_XDECREF(old);
    return 0;
}

/* An instance of a dataclass with slots (MergedObject, and the frozen SourceRef and OpaqueObject) with every
   field given, without running its __init__ (a Python function: a fifth of the reading time). */
static PyObject *record(PyObject *type, PyObject *const *names, PyObject *const *vals, int n) {
    if (!PyType_Check(type)) {
        PyErr_SetString(PyExc_TypeError, "a record type is needed");
        return NULL;
    }
    PyObject *inst = PyBaseObject_Type.tp_new((PyTypeObject *)type, s_empty_tuple, NULL);
    if (!inst)
        return NULL;
    for (int i = 0; i < n; i++)
        if (slot_set(inst, names[i], vals[i]) < 0) {
            Py_DECREF(inst);
            return NULL;
        }
    return inst;
}

/* ---------------------------------------------------------------- the document */

typedef struct {
    PyObject *descriptions, *literal_refs, *object_tags, *predicate_tags, *header_preds;
    PyObject *header, *cim_namespace, *nsmap, *root_attrib;
    PyObject *merged_type, *normalise_mrid, *di, *kind_lit, *kind_ref;
    long n_objects;
} Out;

static int parse_prolog(Scanner *s) {
    const char *b = s->b;
    if (s->n >= 3 && (unsigned char)b[0] == 0xEF && (unsigned char)b[1] == 0xBB && (unsigned char)b[2] == 0xBF)
        s->pos = 3;
    if (s->n - s->pos >= 6 && memcmp(b + s->pos, "<?xml", 5) == 0 && is_ws((unsigned char)b[s->pos + 5])) {
        /* version, then optional encoding and standalone, in that order */
        const char *e = NULL;
        for (Py_ssize_t i = s->pos + 5; i + 1 < s->n; i++)
            if (b[i] == '?' && b[i + 1] == '>') {
                e = b + i;
                break;
            }
        if (!e)
            return FALLBACK;
        s->pos += 5;
        static const char *const keys[3] = {"version", "encoding", "standalone"};
        int next_key = 0, have_version = 0;
        for (;;) {
            Py_ssize_t before = s->pos;
            skip_ws(s);
            if (b + s->pos == e)
                break;
            if (s->pos == before)
                return FALLBACK;
            const char *q;
            Py_ssize_t n;
            if (parse_name(s, &q, &n))
                return FALLBACK;
            int key = -1;
            for (int k = next_key; k < 3; k++)
                if ((Py_ssize_t)strlen(keys[k]) == n && memcmp(keys[k], q, (size_t)n) == 0) {
                    key = k;
                    break;
                }
            if (key < 0 || (key > 0 && !have_version))
                return FALLBACK;
            next_key = key + 1;
            skip_ws(s);
            if (s->pos >= s->n || b[s->pos] != '=')
                return FALLBACK;
            s->pos++;
            skip_ws(s);
            if (b + s->pos >= e || (b[s->pos] != '"' && b[s->pos] != '\''))
                return FALLBACK;
            char quote = b[s->pos++];
            const char *v = b + s->pos, *ve = memchr(v, quote, (size_t)(e - v));
            if (!ve)
                return FALLBACK;
            Py_ssize_t vn = ve - v;
            if (key == 0) {
                if (vn < 3 || v[0] != '1' || v[1] != '.')
                    return FALLBACK;
                for (Py_ssize_t k = 2; k < vn; k++)
                    if (v[k] < '0' || v[k] > '9')
                        return FALLBACK;
                have_version = 1;
            } else if (key == 1) {
                if (vn != 5 || (v[0] | 0x20) != 'u' || (v[1] | 0x20) != 't' || (v[2] | 0x20) != 'f' || v[3] != '-' ||
                    v[4] != '8')
                    return FALLBACK; /* other encodings: lxml */
            } else if (!((vn == 3 && memcmp(v, "yes", 3) == 0) || (vn == 2 && memcmp(v, "no", 2) == 0))) {
                return FALLBACK;
            }
            s->pos = ve - b + 1;
        }
        if (!have_version)
            return FALLBACK;
        s->pos = e - b + 2;
    }
    for (;;) {
        skip_ws(s);
        if (s->pos >= s->n || b[s->pos] != '<')
            return FALLBACK;
        s->pos++;
        if (s->pos < s->n && b[s->pos] == '?') {
            if (skip_pi(s))
                return FALLBACK;
        } else if (s->n - s->pos >= 3 && memcmp(b + s->pos, "!--", 3) == 0) {
            if (skip_comment(s))
                return FALLBACK;
        } else {
            return s->pos < s->n && b[s->pos] == '!' ? FALLBACK : OK; /* DOCTYPE: lxml's checks */
        }
    }
}

static int parse_root(Scanner *s, Out *out) {
    int rc = parse_start_tag(s);
    if (rc)
        return rc;
    if (s->empty)
        return FALLBACK;
    /* namespace declarations first: the root's own name and attributes use them */
    for (int k = 0; k < s->nattrs; k++) {
        Attr *a = &s->attrs[k];
        int is_default = a->qlen == 5 && memcmp(a->q, "xmlns", 5) == 0;
        int is_pfx = a->qlen > 6 && memcmp(a->q, "xmlns:", 6) == 0;
        if (!is_default && !is_pfx)
            continue;
        /* namespace names as CIM files write them (libxml2 refuses some URIs lxml would report) */
        int hashes = 0;
        for (Py_ssize_t i = a->vstart; i < a->vend; i++) {
            unsigned char c = (unsigned char)s->b[i];
            int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     (c && strchr("-._~:/?#@!$()*+,;=", c));
            if (c == '%')
                ok = i + 2 < a->vend && isxdigit((unsigned char)s->b[i + 1]) && isxdigit((unsigned char)s->b[i + 2]);
            hashes += c == '#';
            if (!ok || hashes > 1)
                return FALLBACK;
        }
        PyObject *uri = decode(s, s->b + a->vstart, s->b + a->vend, 1);
        if (!uri)
            return ERROR;
        PyObject *key;
        if (is_default) {
            if (PyUnicode_GET_LENGTH(uri) == 0) { /* xmlns="": no default namespace, listed as lxml lists it */
                key = PyUnicode_FromString("");
                int rc2 = key ? PyDict_SetItem(out->nsmap, key, uri) : -1;
                Py_XDECREF(key);
                Py_DECREF(uri);
                if (rc2 < 0)
                    return ERROR;
                a->qlen = -1;
                continue;
            }
            Py_XDECREF(s->default_ns);
            Py_INCREF(uri);
            s->default_ns = uri;
            key = PyUnicode_FromString("");
        } else {
            const char *p = a->q + 6;
            Py_ssize_t pn = a->qlen - 6;
            /* a prefix is an NCName (libxml2 refuses "xmlns:0"; the name check let digits, '-' and '.' start it) */
            if (!name_start((unsigned char)p[0]) || memchr(p, ':', (size_t)pn) || PyUnicode_GET_LENGTH(uri) == 0 ||
                s->nns >= MAX_NS || (pn == 3 && memcmp(p, "xml", 3) == 0) || (pn == 5 && memcmp(p, "xmlns", 5) == 0)) {
                Py_DECREF(uri);
                return FALLBACK;
            }
            for (int m = 0; m < s->nns; m++)
                if (s->ns_plen[m] == pn && memcmp(s->ns_pfx[m], p, (size_t)pn) == 0) {
                    Py_DECREF(uri);
                    return FALLBACK;
                }
            s->ns_pfx[s->nns] = p;
            s->ns_plen[s->nns] = pn;
            s->ns_uri[s->nns] = uri;
            Py_INCREF(uri);
            s->nns++;
            key = PyUnicode_FromStringAndSize(p, pn);
        }
        if (!key || PyDict_SetItem(out->nsmap, key, uri) < 0) {
            Py_XDECREF(key);
            Py_DECREF(uri);
            return ERROR;
        }
        Py_DECREF(key);
        Py_DECREF(uri);
        a->qlen = -1; /* handled */
    }
    Tag *root = lookup(s, s->tq, s->tql, 0, &rc);
    if (!root)
        return rc;
    if (!root->uri || PyUnicode_CompareWithASCIIString(root->uri, RDF_NS) != 0 ||
        PyUnicode_CompareWithASCIIString(root->local, "RDF") != 0)
        return FALLBACK; /* not RDF: lxml's finding */
    int nat = 0;
    for (int k = 0; k < s->nattrs; k++) {
        Attr *a = &s->attrs[k];
        if (a->qlen < 0)
            continue;
        Tag *t = lookup(s, a->q, a->qlen, 1, &rc);
        if (!t)
            return rc;
        if (nat && PyDict_GetItemWithError(out->root_attrib, t->clark))
            return FALLBACK; /* the same expanded name twice */
        if (PyErr_Occurred())
            return ERROR;
        PyObject *v = decode(s, s->b + a->vstart, s->b + a->vend, 1);
        if (!v || PyDict_SetItem(out->root_attrib, t->clark, v) < 0) {
            Py_XDECREF(v);
            return ERROR;
        }
        Py_DECREF(v);
        nat++;
    }
    return OK;
}

/* The next child element of the element named (q, n), past text, comments and processing instructions: its
   start tag is parsed and its name resolved. NULL with *rc = END after the element's end tag, else with
   *rc = FALLBACK or ERROR. */
static Tag *next_child(Scanner *s, const char *q, Py_ssize_t n, int *rc) {
    for (;;) {
        const char *a, *e;
        if ((*rc = text_until_lt(s, &a, &e, NULL)))
            return NULL;
        if (s->pos >= s->n) {
            *rc = FALLBACK;
            return NULL;
        }
        char c = s->b[s->pos];
        if (c == '/') {
            s->pos++;
            *rc = parse_end_tag(s, q, n);
            if (*rc == OK)
                *rc = END;
            return NULL;
        }
        if (c == '!') {
            *rc = s->n - s->pos >= 3 && memcmp(s->b + s->pos, "!--", 3) == 0 ? skip_comment(s) : FALLBACK;
            if (*rc)
                return NULL;
            continue;
        }
        if (c == '?') {
            if ((*rc = skip_pi(s)))
                return NULL;
            continue;
        }
        /* the tag that followed the previous one last time, if the same name is written here: objects of
           one class list their properties in one order, so this spares most names their parsing, hashing
           and look-up (the bytes equal a name already checked, followed by a byte no name has) */
        Tag *t = s->prev ? s->prev->next : NULL;
        if (written_here(s, t)) {
            s->tq = s->b + s->pos;
            s->tql = t->qlen;
            s->pos += t->qlen;
            if ((*rc = parse_attributes(s)))
                return NULL;
        } else {
            if ((*rc = parse_start_tag(s)))
                return NULL;
            if (!(t = lookup(s, s->tq, s->tql, 0, rc)))
                return NULL;
            if (s->prev)
                s->prev->next = t;
        }
        s->prev = t;
        return t;
    }
}

/* Properties of a plain object (or the header) up to its end tag. For objects, props is a dict keyed by
   local name; for the header, hprops is a list of (clark, value, kind, line). */
static int parse_props(Scanner *s, Out *out, const char *oq, Py_ssize_t on, PyObject *props, PyObject *hprops,
                       PyObject *mrid, PyObject *cls) {
    int rc;
    for (;;) {
        const char *a, *e;
        Tag *t = next_child(s, oq, on, &rc);
        if (!t)
            return rc == END ? OK : rc;
        const char *pq = s->tq;
        Py_ssize_t pn = s->tql;
        long line = line_at(s, s->pos - 1);
        PyObject *kind;
        const char *vt = "";
        Py_ssize_t vn = 0;
        if (s->nattrs == 0) {
            kind = out->kind_lit;
            if (!s->empty) {
                if ((rc = text_until_lt(s, &a, &e, NULL)))
                    return rc;
                if (s->pos >= s->n || s->b[s->pos] != '/')
                    return FALLBACK; /* child elements, comments, CDATA: the verbatim XML of the lxml path */
                s->pos++;
                if ((rc = parse_end_tag(s, pq, pn)))
                    return rc;
                if (decode_utf8(s, a, e, 0, &vt, &vn) < 0)
                    return ERROR;
            }
        } else if (s->nattrs == 1) {
            if ((rc = resolve_attrs(s)))
                return rc;
            Attr *at = &s->attrs[0];
            if (at->tag->akind != A_RESOURCE)
                return FALLBACK;
            kind = out->kind_ref;
            Py_ssize_t vs = at->vstart, ve = at->vend;
            if (!s->empty) {
                int nonws;
                if ((rc = text_until_lt(s, &a, &e, &nonws)))
                    return rc;
                if (nonws || s->pos >= s->n || s->b[s->pos] != '/')
                    return FALLBACK;
                s->pos++;
                if ((rc = parse_end_tag(s, pq, pn)))
                    return rc;
            }
            if (decode_utf8(s, s->b + vs, s->b + ve, 1, &vt, &vn) < 0)
                return ERROR;
        } else {
            return FALLBACK;
        }
        /* vt is the document's bytes or the scratch buffer, which nothing below reuses before it is copied */
        int vascii = s->ascii && vt >= s->b && vt < s->b + s->n;
        if (!hprops) {
            if (!t->seen_pred) {
                if (PySet_Add(out->predicate_tags, t->clark) < 0)
                    return ERROR;
                t->seen_pred = 1;
            }
            if (t->assoc && kind == out->kind_lit) {
                PyObject *value = text_str(vt, vn, vascii);
                PyObject *lr = value ? Py_BuildValue("(OOOlN)", mrid, cls, t->local, line, value) : NULL;
                if (!lr || PyList_Append(out->literal_refs, lr) < 0) {
                    Py_XDECREF(lr);
                    return ERROR;
                }
                Py_DECREF(lr);
            }
            PyObject *pv = prop_make(vt, vn, vascii, kind == out->kind_ref, (int)PyLong_AsLong(out->di), line);
            if (!pv)
                return ERROR;
            PyObject *cur = PyDict_GetItemWithError(props, t->local);
            int ok;
            if (!cur) {
                ok = PyErr_Occurred() ? -1 : PyDict_SetItem(props, t->local, pv);
            } else if (PyList_CheckExact(cur)) {
                ok = PyList_Append(cur, pv);
            } else {
                PyObject *lst = PyList_New(2);
                if (!lst) {
                    ok = -1;
                } else {
                    Py_INCREF(cur);
                    Py_INCREF(pv);
                    PyList_SET_ITEM(lst, 0, cur);
                    PyList_SET_ITEM(lst, 1, pv);
                    ok = PyDict_SetItem(props, t->local, lst);
                    Py_DECREF(lst);
                }
            }
            Py_DECREF(pv);
            if (ok < 0)
                return ERROR;
            continue;
        }
        PyObject *value = text_str(vt, vn, vascii);
        if (!value)
            return ERROR;
        PyObject *ln = PyLong_FromLong(line);
        if (!ln) {
            Py_DECREF(value);
            return ERROR;
        }
        if (PySet_Add(out->header_preds, t->clark) < 0) {
            Py_DECREF(value);
            Py_DECREF(ln);
            return ERROR;
        }
        PyObject *item = PyTuple_Pack(4, t->clark, value, kind, ln);
        Py_DECREF(value);
        Py_DECREF(ln);
        if (!item || PyList_Append(hprops, item) < 0) {
            Py_XDECREF(item);
            return ERROR;
        }
        Py_DECREF(item);
    }
}

static int parse_objects(Scanner *s, Out *out, const char *rq, Py_ssize_t rn) {
    int rc;
    PyObject *one = out->kind_ref, *zero = out->kind_lit; /* the ranks 1 (rdf:ID) and 0 (rdf:about) */
    for (;;) {
        Tag *t = next_child(s, rq, rn, &rc);
        if (!t)
            return rc == END ? OK : rc;
        if ((rc = resolve_attrs(s)))
            return rc;
        if (!t->seen_class) {
            t->seen_class = 1;
            if (out->cim_namespace == Py_None && !t->is_header && t->uri) {
                int in = PySet_Contains(s->cim_namespaces, t->uri);
                if (in < 0)
                    return ERROR;
                if (in) {
                    Py_DECREF(out->cim_namespace);
                    Py_INCREF(t->uri);
                    out->cim_namespace = t->uri;
                }
            }
        }
        const char *oq = s->tq;
        Py_ssize_t on = s->tql;
        int plain = s->nattrs == 1 && (s->attrs[0].tag->akind == A_ID || s->attrs[0].tag->akind == A_ABOUT);
        if (!plain) {
            /* blank node, rdf:nodeID or property attributes: the raw path keeps it verbatim */
            out->n_objects++;
            if (PySet_Add(out->object_tags, t->clark) < 0)
                return ERROR;
            if (!s->empty && (rc = skip_content(s)))
                return rc;
            continue;
        }
        Attr *at = &s->attrs[0];
        int is_id = at->tag->akind == A_ID;
        long line = line_at(s, s->pos - 1);
        int empty = s->empty;
        const char *it;
        Py_ssize_t il;
        if (decode_utf8(s, s->b + at->vstart, s->b + at->vend, 1, &it, &il) < 0)
            return ERROR;
        int iascii = s->ascii && it >= s->b && it < s->b + s->n;
        if (out->header == Py_None && t->is_header) {
            PyObject *ident = text_str(it, il, iascii);
            if (!ident)
                return ERROR;
            PyObject *hprops = PyList_New(0);
            if (!hprops) {
                Py_DECREF(ident);
                return ERROR;
            }
            if (!empty && (rc = parse_props(s, out, oq, on, NULL, hprops, NULL, NULL))) {
                Py_DECREF(ident);
                Py_DECREF(hprops);
                return rc;
            }
            PyObject *h = Py_BuildValue("(OsNlN)", t->clark, is_id ? "ID" : "about", ident, line, hprops);
            if (!h)
                return ERROR;
            Py_DECREF(out->header);
            out->header = h;
            continue;
        }
        out->n_objects++;
        if (PySet_Add(out->object_tags, t->clark) < 0)
            return ERROR;
        /* the identifier as written is kept only where it is not the plain form of the mRID (rdf:ID="_<mRID>",
           rdf:about="#_<mRID>"): None stands for that form, and a million strings are not made */
        PyObject *ident = NULL; /* the str as written, made where cimflow.ids decides or it is not plain */
        PyObject *mrid = normalise_plain(it, il, NULL);
        if (!mrid && !PyErr_Occurred()) {
            ident = text_str(it, il, iascii);
            mrid = ident ? PyObject_CallOneArg(out->normalise_mrid, ident) : NULL;
        }
        if (mrid) {
            Py_ssize_t ml, skip = is_id ? 1 : 2;
            const char *mt = PyUnicode_Check(mrid) ? PyUnicode_AsUTF8AndSize(mrid, &ml) : NULL;
            if (!mt)
                PyErr_Clear(); /* an mRID without a UTF-8 form is not the plain form */
            if (mt && il == ml + skip && it[0] == (is_id ? '_' : '#') && (is_id || it[1] == '_') &&
                memcmp(it + skip, mt, (size_t)ml) == 0)
                Py_XSETREF(ident, Py_NewRef(Py_None));
            else if (!ident)
                ident = text_str(it, il, iascii);
        }
        PyObject *props = mrid && ident ? PyDict_New() : NULL;
        if (!props) {
            Py_XDECREF(mrid);
            Py_XDECREF(ident);
            return ERROR;
        }
        if (!empty && (rc = parse_props(s, out, oq, on, props, NULL, mrid, t->local))) {
            Py_DECREF(mrid);
            Py_DECREF(ident);
            Py_DECREF(props);
            return rc;
        }
        PyObject *ln = PyLong_FromLong(line);
        PyObject *fields[7] = {s_mrid, s_cim_class, s_doc, s_line, s_props, s_rank, s_ident};
        PyObject *args[7] = {mrid, t->local, out->di, ln, props, is_id ? one : zero, ident};
        PyObject *obj = ln ? record(out->merged_type, fields, args, 7) : NULL;
        /* a description holds strings, ints, None and its props (Props, lists of them): it cannot be part of a cycle,
           and untracked the collector does not walk a million of them when reading ends */
        if (obj && PyObject_IS_GC(obj))
            PyObject_GC_UnTrack(obj);
        Py_XDECREF(ln);
        Py_DECREF(mrid);
        Py_DECREF(ident);
        Py_DECREF(props);
        if (!obj || PyList_Append(out->descriptions, obj) < 0) {
            Py_XDECREF(obj);
            return ERROR;
        }
        Py_DECREF(obj);
    }
}

static int parse_epilog(Scanner *s) {
    for (;;) {
        skip_ws(s);
        if (s->pos >= s->n)
            return OK;
        if (s->b[s->pos] != '<')
            return FALLBACK;
        s->pos++;
        int rc;
        if (s->pos < s->n && s->b[s->pos] == '?')
            rc = skip_pi(s);
        else if (s->n - s->pos >= 3 && memcmp(s->b + s->pos, "!--", 3) == 0)
            rc = skip_comment(s);
        else
            rc = FALLBACK;
        if (rc)
            return rc;
    }
}

static void free_scanner(Scanner *s) {
    for (size_t i = 0; i < s->tcap; i++) {
        Tag *t = s->tags[i];
        if (!t)
            continue;
        Py_XDECREF(t->clark);
        Py_XDECREF(t->local);
        Py_XDECREF(t->uri);
        PyMem_Free(t);
    }
    PyMem_Free(s->tags);
    PyMem_Free(s->sbuf);
    for (int i = 0; i < s->nns; i++)
        Py_XDECREF(s->ns_uri[i]);
    Py_XDECREF(s->default_ns);
}

PyDoc_STRVAR(scan_doc,
             "scan(data, di, merged_object, normalise_mrid, header_tags, cim_namespaces)\n--\n\n"
             "Read an RDF/XML document into per-mRID descriptions; None where the lxml path must read it.\n"
             "Returns (nsmap, root_attrib, header, descriptions, literal_refs, object_tags, predicate_tags,\n"
             "header_predicates, n_objects, cim_namespace); header is (tag, 'ID'|'about', ident, line, props).");

static PyObject *scan(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 6 || !PyBytes_Check(args[0]) || !PyLong_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError,
                        "scan(data: bytes, di: int, merged_object, normalise_mrid, header_tags, cim_namespaces)");
        return NULL;
    }
    Scanner s;
    memset(&s, 0, sizeof s);
    s.b = PyBytes_AS_STRING(args[0]);
    s.n = PyBytes_GET_SIZE(args[0]);
    s.line = 1;
    s.header_tags = args[4];
    s.cim_namespaces = args[5];
    int text = valid_document_text((const unsigned char *)s.b, s.n);
    if (!text)
        Py_RETURN_NONE;
    s.ascii = text == 2;
    Out out;
    memset(&out, 0, sizeof out);
    out.merged_type = args[2];
    out.normalise_mrid = args[3];
    out.di = args[1];
    out.kind_lit = PyLong_FromLong(0);
    out.kind_ref = PyLong_FromLong(1);
    out.descriptions = PyList_New(0);
    out.literal_refs = PyList_New(0);
    out.object_tags = PySet_New(NULL);
    out.predicate_tags = PySet_New(NULL);
    out.header_preds = PySet_New(NULL);
    out.nsmap = PyDict_New();
    out.root_attrib = PyDict_New();
    Py_INCREF(Py_None);
    out.header = Py_None;
    Py_INCREF(Py_None);
    out.cim_namespace = Py_None;
    PyObject *result = NULL;
    int rc = ERROR;
    if (out.kind_lit && out.kind_ref && out.descriptions && out.literal_refs && out.object_tags &&
        out.predicate_tags && out.header_preds && out.nsmap && out.root_attrib) {
        rc = parse_prolog(&s);
        const char *rq = NULL;
        Py_ssize_t rn = 0;
        if (rc == OK) {
            rc = parse_root(&s, &out);
            rq = s.tq;
            rn = s.tql;
        }
        if (rc == OK)
            rc = parse_objects(&s, &out, rq, rn);
        if (rc == OK)
            rc = parse_epilog(&s);
    }
    if (rc == OK) {
        result = Py_BuildValue("(OOOOOOOOlO)", out.nsmap, out.root_attrib, out.header, out.descriptions,
                               out.literal_refs, out.object_tags, out.predicate_tags, out.header_preds,
                               out.n_objects, out.cim_namespace);
    } else if (rc == FALLBACK) {
        if (PyErr_Occurred())
            PyErr_Clear();
        Py_INCREF(Py_None);
        result = Py_None;
    }
    Py_XDECREF(out.kind_lit);
    Py_XDECREF(out.kind_ref);
    Py_XDECREF(out.descriptions);
    Py_XDECREF(out.literal_refs);
    Py_XDECREF(out.object_tags);
    Py_XDECREF(out.predicate_tags);
    Py_XDECREF(out.header_preds);
    Py_XDECREF(out.nsmap);
    Py_XDECREF(out.root_attrib);
    Py_XDECREF(out.header);
    Py_XDECREF(out.cim_namespace);
    free_scanner(&s);
    return result;
}

/* ---------------------------------------------------------------- the model build's common cases */

enum { R_FLOAT = 0, R_INT = 1, R_BOOL = 2, R_STR = 3, R_REF = 4, R_REFS = 5, R_ENUM = 6 };

/* rdf:resource values that name an object of the model (cimflow.cim.build.is_internal_reference) */
static int internal_reference(const char *v, Py_ssize_t n) {
    if (n && (v[0] == '#' || v[0] == '_'))
        return 1;
    if (n >= 9 && memcmp(v, "urn:uuid:", 9) == 0)
        return 1;
    return memchr(v, ':', (size_t)n) == NULL;
}

/* The enumeration literal of an rdf:resource or literal v[:n] (value.rsplit("#")[-1].rsplit(".")[-1].strip());
   NULL without an exception where Python must decide (white space or non-ASCII text). */
static PyObject *enum_literal(const char *v, Py_ssize_t n) {
    const char *start = v;
    for (Py_ssize_t i = n; i-- > 0;)
        if (v[i] == '#') {
            start = v + i + 1;
            break;
        }
    for (const char *q = v + n; q-- > start;)
        if (*q == '.') {
            start = q + 1;
            break;
        }
    Py_ssize_t m = v + n - start;
    for (Py_ssize_t i = 0; i < m; i++) {
        unsigned char c = (unsigned char)start[i];
        if (c <= 0x20 || c >= 0x7F)
            return NULL;
    }
    return PyUnicode_FromStringAndSize(start, m);
}

/* The str of a stored value: value, the lxml path's own (see stored_parts), else the Prop's made now. */
static PyObject *stored_str(PyObject *stored, PyObject *value) {
    return value ? Py_NewRef(value) : prop_str(stored);
}

/* float(text) of the stored value's text t[:n] (NUL-terminated): for digits, signs, points and exponents
   alone, the C conversion float() itself ends in; anything else (white space, underscores, other digits, inf
   and nan) through float() of the str. NULL with or without an exception (without: not a number). */
static PyObject *float_of(const char *t, Py_ssize_t n, PyObject *stored, PyObject *value) {
    int plain = n > 0;
    for (Py_ssize_t i = 0; plain && i < n; i++) {
        char c = t[i];
        plain = (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E';
    }
    if (plain) {
        char *end = NULL;
        double d = PyOS_string_to_double(t, &end, NULL);
        if (d == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();
            return NULL;
        }
        if (end != t + n)
            return NULL;
        return PyFloat_FromDouble(d);
    }
    PyObject *str = stored_str(stored, value);
    PyObject *v = str ? PyFloat_FromString(str) : NULL;
    Py_XDECREF(str);
    if (!v)
        PyErr_Clear();
    return v;
}

/* Read the attributes of one merged object whose reading needs no finding and no choice between spellings
   into vals, at their fields' places in the class's layout (nl of them; each field read is set in *mask);
   return the (name, stored) pairs the Python builder must read itself. */

#define MAX_FIELDS 64 /* a class with more fields is built by the Python builder */

static PyObject *last_targets, *last_cls; /* the last accepted reference target class (see below) */

static PyObject *collect_values(PyObject *props, PyObject *plan, PyObject **vals, Py_ssize_t nl, uint64_t *mask,
                                PyObject *objects, PyObject *cache, PyObject *target_ok, PyObject *cgmes) {
    PyObject *slow = NULL; /* made when the first attribute is left to Python */
    Py_ssize_t pos = 0;
    PyObject *name, *stored;
    while (PyDict_Next(props, &pos, &name, &stored)) {
        int fast = 0;
        PyObject *v = NULL;
        PyObject *entry = NULL;
        const char *vt;
        Py_ssize_t vn;
        PyObject *value; /* the value's str where it has one (lxml's tuples); a Prop's is made if needed */
        long kind, doc;
        int got = stored_parts(stored, &vt, &vn, &value, &kind, &doc);
        if (got < 0)
            goto error;
        if (!got)
            goto defer; /* several values, or not text with a UTF-8 form */
        PyObject *tobj = NULL; /* the merged object referred to, borrowed from objects */
        if (kind == 1) {
            /* the mRID of the reference worked out here rather than looked up in cimflow.ids' memo: a lookup
               in a table of a million references costs more than the few dozen bytes of work */
            PyObject *key = normalise_plain(vt, vn, value);
            if (!key) {
                if (PyErr_Occurred())
                    goto error;
                /* unusual text: normalised by cimflow.ids before? */
                PyObject *str = stored_str(stored, value);
                if (!str)
                    goto error;
                key = PyDict_GetItemWithError(cache, str);
                Py_DECREF(str);
                if (!key) {
                    if (PyErr_Occurred())
                        goto error;
                    goto defer;
                }
                Py_INCREF(key);
            }
            tobj = PyDict_GetItemWithError(objects, key);
            Py_DECREF(key);
            if (!tobj) {
                if (PyErr_Occurred())
                    goto error;
                if (internal_reference(vt, vn))
                    goto defer; /* a dangling reference: CF101 */
            }
        }
        entry = PyDict_GetItemWithError(plan, name);
        if (!entry) {
            if (PyErr_Occurred())
                goto error;
            continue; /* not modelled */
        }
        /* (field, read, has quantity, check, targets, enum literals, the field's other names, its place) */
        if (!PyTuple_CheckExact(entry) || PyTuple_GET_SIZE(entry) != 8) {
            PyErr_SetString(PyExc_TypeError, "a plan entry must be a tuple of 8");
            goto error;
        }
        long place = PyLong_AsLong(PyTuple_GET_ITEM(entry, 7));
        long read = PyLong_AsLong(PyTuple_GET_ITEM(entry, 1));
        int has_quantity = PyObject_IsTrue(PyTuple_GET_ITEM(entry, 2));
        long check = PyLong_AsLong(PyTuple_GET_ITEM(entry, 3));
        PyObject *targets = PyTuple_GET_ITEM(entry, 4), *literals = PyTuple_GET_ITEM(entry, 5);
        PyObject *others = PyTuple_GET_ITEM(entry, 6);
        if (PyErr_Occurred())
            goto error;
        if (place < 0 || place >= nl) {
            PyErr_SetString(PyExc_ValueError, "a plan entry's place is outside the class's layout");
            goto error;
        }
        if (others != Py_None) {
            Py_ssize_t k = PyTuple_GET_SIZE(others);
            for (Py_ssize_t i = 0; i < k; i++) {
                int has = PyDict_Contains(props, PyTuple_GET_ITEM(others, i));
                if (has < 0)
                    goto error;
                if (has)
                    goto defer; /* spellings to choose between: the builder's priorities */
            }
        }
        if (read == R_FLOAT && kind == 0) {
            if (!(v = float_of(vt, vn, stored, value)))
                goto defer;
            double d = PyFloat_AS_DOUBLE(v);
            if (doc < 0 || doc >= PyTuple_GET_SIZE(cgmes))
                goto defer;
            if (!isfinite(d) || (has_quantity && PyTuple_GET_ITEM(cgmes, doc) != Py_True) ||
                (check == 1 && d < 0) || (check == 2 && d <= 0))
                goto defer;
            fast = 1;
        } else if (read == R_REF && tobj) {
            if (targets != Py_None) {
                PyObject *tcls = slot_get(tobj, s_cim_class);
                if (!tcls)
                    goto error;
                /* the class names are the reader's interned strings: the last (targets, class) judged
                   acceptable is recognised by identity, without a key tuple and a lookup */
                if (!(targets == last_targets && tcls == last_cls)) {
                    PyObject *key = PyTuple_Pack(2, targets, tcls);
                    PyObject *ok = key ? PyDict_GetItemWithError(target_ok, key) : NULL;
                    Py_XDECREF(key);
                    if (ok != Py_True) {
                        Py_DECREF(tcls);
                        if (PyErr_Occurred())
                            goto error;
                        goto defer; /* a reference to the wrong class (CF102), or not judged yet */
                    }
                    Py_XSETREF(last_targets, Py_NewRef(targets));
                    Py_XSETREF(last_cls, Py_NewRef(tcls));
                }
                Py_DECREF(tcls);
            }
            /* the merged object's own mRID, the key of objects and of the model's tables, rather than the
               equal string the memo made from this reference: every later lookup by this reference then
               finds its key by identity, without comparing the text (a third of a lookup at 100k buses) */
            v = slot_get(tobj, s_mrid);
            if (!v)
                goto error;
            fast = 1;
        } else if (read == R_ENUM && (kind == 0 || kind == 1)) {
            v = enum_literal(vt, vn);
            if (!v) {
                if (PyErr_Occurred())
                    goto error;
                goto defer;
            }
            if (literals != Py_None) {
                int in = PySequence_Contains(literals, v);
                if (in < 0)
                    goto error;
                if (!in)
                    goto defer; /* an unknown literal: CF111 */
            }
            fast = 1;
        } else if (kind == 0 && read == R_STR) {
            v = stored_str(stored, value);
            if (!v)
                goto error;
            fast = 1;
        } else if (kind == 0 && read == R_BOOL) {
            if (vn == 4 && memcmp(vt, "true", 4) == 0)
                v = Py_True;
            else if (vn == 5 && memcmp(vt, "false", 5) == 0)
                v = Py_False;
            else
                goto defer;
            Py_INCREF(v);
            fast = 1;
        } else if (kind == 0 && read == R_INT) {
            if (vn == 0 || vn > 18)
                goto defer;
            for (Py_ssize_t i = 0; i < vn; i++)
                if (vt[i] < '0' || vt[i] > '9')
                    goto defer;
            v = PyLong_FromString(vt, NULL, 10);
            if (!v)
                goto error;
            fast = 1;
        }
        if (fast) {
            Py_XSETREF(vals[place], v);
            *mask |= (uint64_t)1 << place;
            continue;
        }
    defer:
        Py_XDECREF(v);
        {
            PyObject *pair = PyTuple_Pack(2, name, stored);
            if (pair && !slow && !(slow = PyList_New(0))) {
                Py_DECREF(pair);
                goto error_nov;
            }
            if (!pair || PyList_Append(slow, pair) < 0) {
                Py_XDECREF(pair);
                goto error_nov;
            }
            Py_DECREF(pair);
        }
        continue;
    error:
        Py_XDECREF(v);
    error_nov:
        Py_XDECREF(slow);
        return NULL;
    }
    return slow ? slow : Py_NewRef(s_empty_tuple); /* the empty tuple: nothing left to Python */
}

PyDoc_STRVAR(build_objects_doc,
             "build_objects(objects, model_of_class, plans, plan_of, mrid_cache, target_ok, cgmes_docs, names,\n"
             "              ref_forms, by_class, by_mrid, opaque, opaque_type, source_type, layouts, layout_of,\n"
             "              required, fields_sets, post_processed, finish, released)\n--\n\n"
             "The model build's loop over merged objects (cimflow.cim.build): identifier forms, the attributes\n"
             "that need no finding, and the frozen instance as CimObject.from_checked makes it; every object\n"
             "with anything else to read, or a class in post_processed, goes to finish(mrid, obj, model,\n"
             "values, items) in its turn, so the order of the model is the order of the merge. The plans'\n"
             "entries end with the field's place in the class's layout; a shared set of field names is kept\n"
             "in fields_sets under (model, bit mask of the fields read).");

/* memo[key] (borrowed), made by make(key) the first time, which stores it in memo itself. */
static PyObject *made_by(PyObject *memo, PyObject *make, PyObject *key, const char *what) {
    PyObject *got = PyDict_GetItemWithError(memo, key);
    if (got || PyErr_Occurred())
        return got;
    PyObject *made = PyObject_CallOneArg(make, key);
    if (!made)
        return NULL;
    Py_DECREF(made); /* make stores it in memo */
    got = PyDict_GetItemWithError(memo, key);
    if (!got && !PyErr_Occurred())
        PyErr_Format(PyExc_KeyError, "%s was not stored by its maker", what);
    return got;
}

/* The layout (tuple of (field, default)) of a model class, made by layout_of the first time. */
static PyObject *layout_for(PyObject *layouts, PyObject *layout_of, PyObject *model) {
    PyObject *layout = made_by(layouts, layout_of, model, "the layout");
    if (!layout)
        return NULL;
    if (!PyTuple_CheckExact(layout)) {
        PyErr_SetString(PyExc_TypeError, "a layout must be a tuple of (field, default)");
        return NULL;
    }
    return layout; /* borrowed from layouts */
}

/* The place of a field in a layout, or -1. */
static Py_ssize_t place_of(PyObject *layout, PyObject *name) {
    Py_ssize_t nl = PyTuple_GET_SIZE(layout);
    for (Py_ssize_t f = 0; f < nl; f++) {
        PyObject *pair = PyTuple_GET_ITEM(layout, f);
        if (!PyTuple_CheckExact(pair) || PyTuple_GET_SIZE(pair) != 2)
            return -1;
        PyObject *fname = PyTuple_GET_ITEM(pair, 0);
        if (fname == name || (PyUnicode_Check(fname) && PyUnicode_Compare(fname, name) == 0))
            return f;
    }
    return -1;
}

/* The values read so far as the dict the Python builder continues with: mRID and class, then the fields
   read, in layout order. */
static PyObject *values_dict(PyObject *mrid, PyObject *cls, PyObject *layout, PyObject **vals, uint64_t mask) {
    PyObject *values = PyDict_New();
    if (!values || PyDict_SetItem(values, s_mrid, mrid) < 0 || PyDict_SetItem(values, s_cim_class, cls) < 0) {
        Py_XDECREF(values);
        return NULL;
    }
    for (Py_ssize_t f = 0; mask && layout && f < PyTuple_GET_SIZE(layout); f++) {
        if (!(mask >> f & 1))
            continue;
        PyObject *fname = PyTuple_GET_ITEM(PyTuple_GET_ITEM(layout, f), 0);
        if (PyDict_SetItem(values, fname, vals[f]) < 0) {
            Py_DECREF(values);
            return NULL;
        }
    }
    return values;
}

/* the places of mrid, cim_class and source in the last model's layout (every model class has them) */
static PyObject *meta_layout;
static Py_ssize_t meta_mrid, meta_cls, meta_src;
/* the last (model, fields read) and its shared set of field names */
static PyObject *last_fs_model, *last_fs;
static uint64_t last_fs_mask;

static PyObject *build_objects(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 21 || !PyDict_CheckExact(args[0]) || !PyDict_CheckExact(args[1]) || !PyDict_CheckExact(args[2]) ||
        !PyDict_CheckExact(args[4]) || !PyDict_CheckExact(args[5]) || !PyTuple_CheckExact(args[6]) ||
        !PyList_CheckExact(args[7]) || !PyDict_CheckExact(args[8]) || !PyDict_CheckExact(args[9]) ||
        !PyDict_CheckExact(args[10]) || !PyDict_CheckExact(args[11]) || !PyDict_CheckExact(args[14]) ||
        !PyDict_CheckExact(args[17]) || !PyAnySet_Check(args[18])) {
        PyErr_SetString(PyExc_TypeError, "build_objects: see its docstring for the arguments");
        return NULL;
    }
    PyObject *objects = args[0], *model_of = args[1], *plans = args[2], *plan_of = args[3], *cache = args[4];
    PyObject *target_ok = args[5], *cgmes = args[6], *names = args[7], *ref_forms = args[8], *by_class = args[9];
    PyObject *by_mrid = args[10], *opaque = args[11], *opaque_type = args[12], *source_type = args[13];
    PyObject *layouts = args[14], *layout_of = args[15], *required = args[16], *fields_sets = args[17];
    PyObject *special = args[18], *finish = args[19], *released = args[20];
    Py_ssize_t pos = 0;
    PyObject *mrid, *obj;
    PyObject *vals[MAX_FIELDS]; /* the fields read, at their places in the layout (set in mask) */
    memset(vals, 0, sizeof vals);
    while (PyDict_Next(objects, &pos, &mrid, &obj)) {
        PyObject *ident = NULL, *rank = NULL, *cls = NULL, *props = NULL, *doc = NULL, *line = NULL;
        PyObject *values = NULL, *slow = NULL, *inst = NULL, *form = NULL, *layout = NULL;
        uint64_t mask = 0;
        Py_ssize_t nl = 0, i_mrid = -1, i_cls = -1, i_src = -1;
        int failed = 1;
        ident = slot_get(obj, s_ident);
        rank = ident ? slot_get(obj, s_rank) : NULL;
        cls = rank ? slot_get(obj, s_cim_class) : NULL;
        if (!cls)
            goto done;
        /* identifiers written otherwise than "#_<mRID>", for writers that refer to existing objects (the
           readers store None for the plain form, rdf:ID="_<mRID>" or rdf:about="#_<mRID>") */
        if (ident != Py_None) {
            int r = PyObject_IsTrue(rank);
            if (r < 0)
                goto done;
            form = r ? PyUnicode_FromFormat("#%U", ident) : Py_NewRef(ident);
            if (!form || PyDict_SetItem(ref_forms, mrid, form) < 0)
                goto done;
        }
        PyObject *model = PyDict_GetItemWithError(model_of, cls); /* borrowed; NULL: not modelled */
        if (!model && PyErr_Occurred())
            goto done;
        PyObject *plan = made_by(plans, plan_of, model ? model : Py_None, "the plan");
        if (!plan)
            goto done;
        props = slot_get(obj, s_props);
        if (!props)
            goto done;
        if (!PyDict_CheckExact(props)) {
            PyErr_SetString(PyExc_TypeError, "props must be a dict");
            goto done;
        }
        int wide = 0; /* a class this loop does not make: the Python builder reads every attribute */
        if (model) {
            if (!(layout = layout_for(layouts, layout_of, model)))
                goto done;
            Py_INCREF(layout);
            nl = PyTuple_GET_SIZE(layout);
            if (layout != meta_layout) {
                Py_XSETREF(meta_layout, Py_NewRef(layout));
                meta_mrid = place_of(layout, s_mrid);
                meta_cls = place_of(layout, s_cim_class);
                meta_src = place_of(layout, s_source);
            }
            /* this object's places, taken with its layout: the cache is the module's, shared by every call */
            i_mrid = meta_mrid, i_cls = meta_cls, i_src = meta_src;
            wide = nl > MAX_FIELDS || i_mrid < 0 || i_cls < 0 || i_src < 0;
        }
        if (wide) {
            slow = PyDict_Items(props);
            mask = 0;
        } else {
            slow = collect_values(props, plan, vals, nl, &mask, objects, cache, target_ok, cgmes);
        }
        if (!slow)
            goto done;
        int is_special = PySet_Contains(special, cls);
        if (is_special < 0)
            goto done;
        if (slow != s_empty_tuple || is_special || wide) {
            if (!(values = values_dict(mrid, cls, layout, vals, mask)))
                goto done;
            PyObject *fargs[5] = {mrid, obj, model ? model : Py_None, values, slow};
            PyObject *r = PyObject_Vectorcall(finish, fargs, 5, NULL);
            if (!r)
                goto done;
            Py_DECREF(r);
            failed = 0;
            goto done;
        }
        doc = slot_get(obj, s_doc);
        line = doc ? slot_get(obj, s_line) : NULL;
        if (!line)
            goto done;
        Py_ssize_t d = PyLong_AsSsize_t(doc);
        if (d < 0 || d >= PyList_GET_SIZE(names)) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_IndexError, "document index out of range");
            goto done;
        }
        PyObject *file = PyList_GET_ITEM(names, d);
        if (!model) {
            PyObject *onames[4] = {s_mrid, s_cim_class, s_file, s_line};
            PyObject *oargs[4] = {mrid, cls, file, line};
            inst = record(opaque_type, onames, oargs, 4);
            if (!inst || PyDict_SetItem(opaque, mrid, inst) < 0 || slot_set(obj, s_props, released) < 0)
                goto done;
            failed = 0;
            goto done;
        }
        {
            PyObject *snames[2] = {s_file, s_line};
            PyObject *sargs[2] = {file, line};
            PyObject *src = record(source_type, snames, sargs, 2);
            if (!src)
                goto done;
            Py_XSETREF(vals[i_src], src);
            if (!(mask >> i_mrid & 1)) /* as from_checked's values: an attribute read for the field wins */
                vals[i_mrid] = Py_NewRef(mrid);
            if (!(mask >> i_cls & 1))
                vals[i_cls] = Py_NewRef(cls);
            mask |= (uint64_t)1 << i_src | (uint64_t)1 << i_mrid | (uint64_t)1 << i_cls;
        }
        /* CimObject.from_checked: every field in the class's order, its value or its default, set one by one
           (CPython keeps them in the object with keys shared by the class); one shared set of field names
           per class and fields read, the last one recognised without a look-up */
        {
            PyObject *fields_set;
            if (model == last_fs_model && mask == last_fs_mask) {
                fields_set = last_fs;
            } else {
                PyObject *key = Py_BuildValue("(OK)", model, (unsigned long long)mask);
                if (!key)
                    goto done;
                fields_set = PyDict_GetItemWithError(fields_sets, key);
                if (!fields_set) {
                    if (PyErr_Occurred()) {
                        Py_DECREF(key);
                        goto done;
                    }
                    PyObject *fs = PyFrozenSet_New(NULL);
                    for (Py_ssize_t f = 0; fs && f < nl; f++)
                        if ((mask >> f & 1) && PySet_Add(fs, PyTuple_GET_ITEM(PyTuple_GET_ITEM(layout, f), 0)) < 0)
                            Py_CLEAR(fs);
                    int rc = fs ? PyDict_SetItem(fields_sets, key, fs) : -1;
                    Py_XDECREF(fs);
                    if (rc < 0) {
                        Py_DECREF(key);
                        goto done;
                    }
                    fields_set = fs; /* borrowed from fields_sets */
                }
                Py_DECREF(key);
                Py_XSETREF(last_fs_model, Py_NewRef(model));
                Py_XSETREF(last_fs, Py_NewRef(fields_set));
                last_fs_mask = mask;
            }
            inst = ((PyTypeObject *)&PyBaseObject_Type)->tp_new((PyTypeObject *)model, s_empty_tuple, NULL);
            if (!inst)
                goto done;
            for (Py_ssize_t f = 0; f < nl; f++) {
                PyObject *pair = PyTuple_GET_ITEM(layout, f);
                PyObject *fname = PyTuple_GET_ITEM(pair, 0);
                PyObject *fv = mask >> f & 1 ? vals[f] : PyTuple_GET_ITEM(pair, 1);
                if (fv == required)
                    continue;
                if (PyObject_GenericSetAttr(inst, fname, fv) < 0)
                    goto done;
            }
            if (PyObject_GenericSetAttr(inst, s_fields_set, fields_set) < 0 ||
                PyObject_GenericSetAttr(inst, s_extra, Py_None) < 0 ||
                PyObject_GenericSetAttr(inst, s_private, Py_None) < 0)
                goto done;
        }
        if (slot_set(obj, s_props, released) < 0)
            goto done;
        {
            PyObject *group = PyDict_GetItemWithError(by_class, model);
            if (!group) {
                if (PyErr_Occurred())
                    goto done;
                group = PyDict_New();
                int rc = group ? PyDict_SetItem(by_class, model, group) : -1;
                Py_XDECREF(group); /* by_class holds it */
                if (rc < 0)
                    goto done;
            }
            if (PyDict_SetItem(group, mrid, inst) < 0 || PyDict_SetItem(by_mrid, mrid, inst) < 0)
                goto done;
        }
        failed = 0;
    done:
        for (Py_ssize_t f = 0; mask && f < nl && f < MAX_FIELDS; f++)
            if (mask >> f & 1)
                Py_CLEAR(vals[f]);
        Py_XDECREF(ident);
        Py_XDECREF(rank);
        Py_XDECREF(cls);
        Py_XDECREF(props);
        Py_XDECREF(doc);
        Py_XDECREF(line);
        Py_XDECREF(values);
        Py_XDECREF(slow);
        Py_XDECREF(inst);
        Py_XDECREF(form);
        Py_XDECREF(layout);
        if (failed)
            return NULL;
    }
    Py_RETURN_NONE;
}

/* ---------------------------------------------------------------- the merge's common case */

/* Whether two stored values (each a Prop or the lxml path's tuple) have the same value text: 1, 0, -1. */
static int same_value(PyObject *a, PyObject *b) {
    if (is_prop(a) && is_prop(b))
        return Py_SIZE(a) == Py_SIZE(b) && memcmp(((Prop *)a)->text, ((Prop *)b)->text, (size_t)Py_SIZE(a)) == 0;
    PyObject *x = PySequence_GetItem(a, 0);
    PyObject *y = x ? PySequence_GetItem(b, 0) : NULL;
    int eq = y ? PyObject_RichCompareBool(x, y, Py_EQ) : -1;
    Py_XDECREF(x);
    Py_XDECREF(y);
    return eq;
}

/* The kind of a stored value (a Prop or the lxml path's tuple); -1 with an exception. */
static long stored_kind(PyObject *pv) {
    if (is_prop(pv))
        return ((Prop *)pv)->kind;
    PyObject *k = PySequence_GetItem(pv, 1);
    long kind = k ? PyLong_AsLong(k) : -1;
    Py_XDECREF(k);
    return kind;
}


PyDoc_STRVAR(merge_into_doc,
             "merge_into(objects, descriptions, start, di, eq_doc, counts, conflicts)\n--\n\n"
             "Fold descriptions[start:] into objects as cimflow.cim.merge does, up to the first whose class\n"
             "differs from the merged object's (returned index; len(descriptions) when all are merged).\n"
             "Each new mRID is counted in counts (by class); conflicting values are appended to conflicts as\n"
             "(mrid, cim_class, local, value, first).");


static PyObject *merge_into(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 7 || !PyDict_CheckExact(args[0]) || !PyList_CheckExact(args[1]) || !PyLong_Check(args[2]) ||
        !PyLong_Check(args[3]) || !PyDict_CheckExact(args[5]) || !PyList_CheckExact(args[6])) {
        PyErr_SetString(PyExc_TypeError, "merge_into(objects: dict, descriptions: list, start: int, di: int, "
                                         "eq_doc: bool, counts: dict, conflicts: list)");
        return NULL;
    }
    PyObject *objects = args[0], *descs = args[1], *di = args[3], *counts = args[5], *conflicts = args[6];
    int eq_doc = PyObject_IsTrue(args[4]);
    Py_ssize_t i = PyLong_AsSsize_t(args[2]), n = PyList_GET_SIZE(descs);
    if (i < 0 && PyErr_Occurred())
        return NULL;
    PyObject *two = PyLong_FromLong(2);
    if (!two)
        return NULL;
    for (; i < n; i++) {
        PyObject *desc = PyList_GET_ITEM(descs, i);
        PyObject *cls = NULL, *mrid = NULL, *rank = NULL, *mcls = NULL, *mrank = NULL, *props = NULL, *dprops = NULL;
        int stop = 0, failed = 1;
        cls = slot_get(desc, s_cim_class);
        mrid = cls ? slot_get(desc, s_mrid) : NULL;
        rank = mrid ? slot_get(desc, s_rank) : NULL;
        if (!rank)
            goto done;
        long r = PyLong_AsLong(rank);
        if (r == -1 && PyErr_Occurred())
            goto done;
        if (eq_doc && r == 1) {
            if (slot_set(desc, s_rank, two) < 0)
                goto done;
            r = 2;
            Py_SETREF(rank, Py_NewRef(two));
        }
        PyObject *merged = PyDict_GetItemWithError(objects, mrid);
        if (!merged) {
            if (PyErr_Occurred() || PyDict_SetItem(objects, mrid, desc) < 0)
                goto done;
            /* a new mRID: one more object of its class (a class seen again for an mRID is a mismatch, which
               the Python merge counts) */
            PyObject *c = PyDict_GetItemWithError(counts, cls);
            if (!c && PyErr_Occurred())
                goto done;
            PyObject *c1 = PyLong_FromSsize_t(c ? PyLong_AsSsize_t(c) + 1 : 1);
            int rc = c1 ? PyDict_SetItem(counts, cls, c1) : -1;
            Py_XDECREF(c1);
            if (rc == 0)
                failed = 0;
            goto done;
        }
        mcls = slot_get(merged, s_cim_class);
        if (!mcls)
            goto done;
        int same = PyUnicode_Compare(cls, mcls);
        if (same == -1 && PyErr_Occurred())
            goto done;
        if (same != 0) {
            stop = 1; /* a class mismatch: the Python merge reports it */
            failed = 0;
            goto done;
        }
        mrank = slot_get(merged, s_rank);
        if (!mrank)
            goto done;
        long mr = PyLong_AsLong(mrank);
        if (mr == -1 && PyErr_Occurred())
            goto done;
        if (r > mr) {
            PyObject *line = slot_get(desc, s_line), *ident = line ? slot_get(desc, s_ident) : NULL;
            int bad = !ident || slot_set(merged, s_doc, di) < 0 || slot_set(merged, s_line, line) < 0 ||
                      slot_set(merged, s_rank, rank) < 0 || slot_set(merged, s_ident, ident) < 0;
            Py_XDECREF(line);
            Py_XDECREF(ident);
            if (bad)
                goto done;
        }
        props = slot_get(merged, s_props);
        dprops = props ? slot_get(desc, s_props) : NULL;
        if (!dprops)
            goto done;
        if (!PyDict_CheckExact(props) || !PyDict_CheckExact(dprops)) {
            PyErr_SetString(PyExc_TypeError, "props must be dicts");
            goto done;
        }
        Py_ssize_t pos = 0;
        PyObject *local, *stored;
        while (PyDict_Next(dprops, &pos, &local, &stored)) {
            PyObject *cur = PyDict_GetItemWithError(props, local);
            if (!cur) {
                if (PyErr_Occurred() || PyDict_SetItem(props, local, stored) < 0)
                    goto done;
                continue;
            }
            PyObject *first = PyList_CheckExact(cur) ? PyList_GET_ITEM(cur, 0) : cur;
            Py_ssize_t k = PyList_CheckExact(stored) ? PyList_GET_SIZE(stored) : 1;
            for (Py_ssize_t j = 0; j < k; j++) {
                PyObject *pv = PyList_CheckExact(stored) ? PyList_GET_ITEM(stored, j) : stored;
                int eq = same_value(first, pv);
                if (eq < 0)
                    goto done;
                if (eq)
                    continue;
                long kind = stored_kind(pv);
                if (kind == -1 && PyErr_Occurred())
                    goto done;
                if (kind == 2)
                    continue; /* verbatim XML is not compared */
                PyObject *c = PyTuple_Pack(5, mrid, cls, local, pv, first);
                if (!c || PyList_Append(conflicts, c) < 0) {
                    Py_XDECREF(c);
                    goto done;
                }
                Py_DECREF(c);
            }
        }
        failed = 0;
    done:
        Py_XDECREF(cls);
        Py_XDECREF(mrid);
        Py_XDECREF(rank);
        Py_XDECREF(mcls);
        Py_XDECREF(mrank);
        Py_XDECREF(props);
        Py_XDECREF(dprops);
        if (failed) {
            Py_DECREF(two);
            return NULL;
        }
        if (stop)
            break;
    }
    Py_DECREF(two);
    return PyLong_FromSsize_t(i);
}

/* ---------------------------------------------------------------- rows of a writer */

PyDoc_STRVAR(render_rows_doc,
             "render_rows($module, parts, columns, start, stop, /)\n--\n\n"
             "UTF-8 (bytes) of the rows start..stop-1 of the tuple of lists columns, each parts[0] +\n"
             "text(columns[0][i]) + parts[1] + ... + parts[k] (parts: a tuple of str)\n"
             "followed by a newline, where text is a str itself and a float format(x, '.12g'); len(parts) is\n"
             "len(columns) + 1. The SV writer's bulk classes (cimflow.report.cim_annotated).");

static PyObject *render_rows(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 4 || !PyTuple_Check(args[0]) || !PyTuple_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "render_rows(parts: tuple, columns: tuple, start: int, stop: int)");
        return NULL;
    }
    PyObject *parts = args[0], *columns = args[1];
    Py_ssize_t k = PyTuple_GET_SIZE(columns);
    Py_ssize_t start = PyLong_AsSsize_t(args[2]), stop = PyLong_AsSsize_t(args[3]);
    if (PyErr_Occurred())
        return NULL;
    if (PyTuple_GET_SIZE(parts) != k + 1) {
        PyErr_SetString(PyExc_ValueError, "render_rows: len(parts) must be len(columns) + 1");
        return NULL;
    }
    const char *ptext[64];
    Py_ssize_t plen[64];
    if (k + 1 > 64) {
        PyErr_SetString(PyExc_ValueError, "render_rows: at most 63 columns");
        return NULL;
    }
    Py_ssize_t fixed = 1; /* the newline */
    for (Py_ssize_t j = 0; j <= k; j++) {
        PyObject *pt = PyTuple_GET_ITEM(parts, j);
        if (!PyUnicode_Check(pt)) {
            PyErr_SetString(PyExc_TypeError, "render_rows: parts must be str");
            return NULL;
        }
        if (!(ptext[j] = PyUnicode_AsUTF8AndSize(pt, &plen[j])))
            return NULL;
        fixed += plen[j];
    }
    for (Py_ssize_t j = 0; j < k; j++) {
        PyObject *col = PyTuple_GET_ITEM(columns, j);
        if (!PyList_CheckExact(col) || PyList_GET_SIZE(col) < stop) {
            PyErr_SetString(PyExc_ValueError, "render_rows: every column a list of at least stop items");
            return NULL;
        }
    }
    if (start < 0 || stop < start) {
        PyErr_SetString(PyExc_ValueError, "render_rows: 0 <= start <= stop");
        return NULL;
    }
    size_t cap = (size_t)(stop - start) * (size_t)(fixed + 48 * k) + 64, used = 0;
    char *buf = PyMem_Malloc(cap);
    if (!buf)
        return PyErr_NoMemory();
    for (Py_ssize_t i = start; i < stop; i++) {
        for (Py_ssize_t j = 0; j <= k; j++) {
            const char *t = NULL;
            Py_ssize_t n = 0;
            char *num = NULL;
            if (j > 0) {
                PyObject *v = PyList_GET_ITEM(PyTuple_GET_ITEM(columns, j - 1), i);
                if (PyFloat_CheckExact(v)) {
                    num = PyOS_double_to_string(PyFloat_AS_DOUBLE(v), 'g', 12, 0, NULL);
                    if (!num) {
                        PyMem_Free(buf);
                        return NULL;
                    }
                    t = num;
                    n = (Py_ssize_t)strlen(num);
                } else if (PyUnicode_Check(v)) {
                    t = PyUnicode_AsUTF8AndSize(v, &n);
                    if (!t) {
                        PyMem_Free(buf);
                        return NULL;
                    }
                } else {
                    PyMem_Free(buf);
                    PyErr_Format(PyExc_TypeError, "render_rows: a %s in a column (str or float only)",
                                 Py_TYPE(v)->tp_name);
                    return NULL;
                }
            }
            size_t need = used + (size_t)n + (size_t)plen[j] + 1;
            if (need > cap) {
                size_t ncap = cap * 2 > need ? cap * 2 : need + 4096;
                char *nb = PyMem_Realloc(buf, ncap);
                if (!nb) {
                    PyMem_Free(num);
                    PyMem_Free(buf);
                    return PyErr_NoMemory();
                }
                buf = nb;
                cap = ncap;
            }
            if (n) {
                memcpy(buf + used, t, (size_t)n);
                used += (size_t)n;
            }
            PyMem_Free(num);
            memcpy(buf + used, ptext[j], (size_t)plen[j]);
            used += (size_t)plen[j];
        }
        buf[used++] = '\n';
    }
    PyObject *out = PyBytes_FromStringAndSize(buf, (Py_ssize_t)used);
    PyMem_Free(buf);
    return out;
}

/* ---------------------------------------------------------------- UUIDv5 of many names */

PyDoc_STRVAR(uuid5_many_doc,
             "uuid5_many($module, base, keys, /)\n--\n\n"
             "str(uuid.uuid5(ns, prefix + key)) of each str in the list keys, as a list, where base is a hashlib\n"
             "SHA-1 object that has been given ns.bytes + prefix: a copy of it is given each key's UTF-8 and the\n"
             "first 16 bytes of its digest get the version (5) and RFC 4122 variant bits. The SV writer's new\n"
             "identifiers.");

static PyObject *uuid5_many(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 2 || !PyList_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "uuid5_many(base, keys: list[str])");
        return NULL;
    }
    static const char hex[] = "0123456789abcdef";
    PyObject *base = args[0];
    /* a copy of the list: base's methods are Python calls and must not change the keys under the loop */
    PyObject *keys = PyList_GetSlice(args[1], 0, PY_SSIZE_T_MAX);
    if (!keys)
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(keys);
    PyObject *out = PyList_New(n);
    if (!out) {
        Py_DECREF(keys);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *key = PyList_GET_ITEM(keys, i);
        if (!PyUnicode_Check(key)) {
            PyErr_Format(PyExc_TypeError, "uuid5_many: a %s among the keys (str only)", Py_TYPE(key)->tp_name);
            goto error;
        }
        PyObject *h = PyObject_CallMethodNoArgs(base, s_copy);
        if (!h)
            goto error;
        PyObject *utf8 = PyUnicode_AsUTF8String(key);
        PyObject *done = utf8 ? PyObject_CallMethodOneArg(h, s_update, utf8) : NULL;
        Py_XDECREF(utf8);
        PyObject *digest = done ? PyObject_CallMethodNoArgs(h, s_digest) : NULL;
        Py_XDECREF(done);
        Py_DECREF(h);
        if (!digest)
            goto error;
        if (!PyBytes_Check(digest) || PyBytes_GET_SIZE(digest) < 16) {
            PyErr_Format(PyExc_ValueError, "uuid5_many: digest() gave %s, not at least 16 bytes",
                         PyBytes_Check(digest) ? "fewer bytes" : Py_TYPE(digest)->tp_name);
            Py_DECREF(digest);
            goto error;
        }
        unsigned char d[16];
        memcpy(d, PyBytes_AS_STRING(digest), 16);
        Py_DECREF(digest);
        d[6] = (unsigned char)((d[6] & 0x0F) | 0x50); /* version 5 */
        d[8] = (unsigned char)((d[8] & 0x3F) | 0x80); /* variant 10xx */
        PyObject *text = PyUnicode_New(36, 127);
        if (!text)
            goto error;
        Py_UCS1 *o = PyUnicode_1BYTE_DATA(text);
        for (int b = 0, j = 0; b < 16; b++) {
            if (b == 4 || b == 6 || b == 8 || b == 10)
                o[j++] = '-'; /* 8-4-4-4-12 hex digits */
            o[j++] = (Py_UCS1)hex[d[b] >> 4];
            o[j++] = (Py_UCS1)hex[d[b] & 15];
        }
        PyList_SET_ITEM(out, i, text);
    }
    Py_DECREF(keys);
    return out;
error:
    Py_DECREF(keys);
    Py_DECREF(out);
    return NULL;
}

static PyMethodDef methods[] = {
    {"render_rows", (PyCFunction)(void (*)(void))render_rows, METH_FASTCALL, render_rows_doc},
    {"uuid5_many", (PyCFunction)(void (*)(void))uuid5_many, METH_FASTCALL, uuid5_many_doc},
    {"merge_into", (PyCFunction)(void (*)(void))merge_into, METH_FASTCALL, merge_into_doc},
    {"scan", (PyCFunction)(void (*)(void))scan, METH_FASTCALL, scan_doc},
    {"build_objects", (PyCFunction)(void (*)(void))build_objects, METH_FASTCALL, build_objects_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_rdfscan", "cimflow's native RDF/XML reading path (see descriptions.py).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__rdfscan(void) {
    init_hex_lower();
    {
        PyObject *salt = PyUnicode_FromString("cimflow tag names");
        Py_hash_t hs = salt ? PyObject_Hash(salt) : -1;
        Py_XDECREF(salt);
        if (hs == -1)
            return NULL;
        name_seed = (uint64_t)hs * 0x9E3779B97F4A7C15ULL;
    }
    s_copy = PyUnicode_InternFromString("copy");
    s_update = PyUnicode_InternFromString("update");
    s_digest = PyUnicode_InternFromString("digest");
    s_cim_class = PyUnicode_InternFromString("cim_class");
    s_mrid = PyUnicode_InternFromString("mrid");
    s_rank = PyUnicode_InternFromString("rank");
    s_props = PyUnicode_InternFromString("props");
    s_doc = PyUnicode_InternFromString("doc");
    s_line = PyUnicode_InternFromString("line");
    s_ident = PyUnicode_InternFromString("ident");
    s_dict = PyUnicode_InternFromString("__dict__");
    s_fields_set = PyUnicode_InternFromString("__pydantic_fields_set__");
    s_extra = PyUnicode_InternFromString("__pydantic_extra__");
    s_private = PyUnicode_InternFromString("__pydantic_private__");
    s_source = PyUnicode_InternFromString("source");
    s_file = PyUnicode_InternFromString("file");
    s_empty_tuple = PyTuple_New(0);
    if (!s_cim_class || !s_mrid || !s_rank || !s_props || !s_doc || !s_line || !s_ident || !s_dict || !s_fields_set ||
        !s_extra || !s_private || !s_source || !s_file || !s_empty_tuple || !s_copy || !s_update || !s_digest)
        return NULL;
    if (PyType_Ready(&PropType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m && PyModule_AddObjectRef(m, "Prop", (PyObject *)&PropType) < 0)
        Py_CLEAR(m);
    /* the version of the functions' arguments, which cimflow.cim.descriptions checks: a module built from
       older sources (an in-place build not redone) is then not used rather than called wrongly */
    if (m && PyModule_AddIntConstant(m, "INTERFACE", 4) < 0)
        Py_CLEAR(m);
    return m;
}
