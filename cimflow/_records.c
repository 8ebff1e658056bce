/* Positional constructors for frozen slots dataclasses (cimflow.records).
 *
 * A frozen dataclass's generated __init__ stores each field with object.__setattr__, a call per field;
 * the topology, the per-unit case and the solution make hundreds of thousands of such records at 100k
 * buses. A constructor made here takes exactly the fields, positionally, and stores them in the
 * instance's slots directly (the offsets of the class's member descriptors); any other call (keywords,
 * fewer arguments for defaults) goes to the class itself. Optional: without it cimflow calls the classes.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h> /* T_OBJECT_EX, READONLY */

typedef struct {
    PyObject_VAR_HEAD
    vectorcallfunc vectorcall;
    PyTypeObject *type;
    Py_ssize_t n;
    Py_ssize_t offsets[1]; /* n of them */
} Ctor;

static PyObject *ctor_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    Ctor *c = (Ctor *)self;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (kwnames != NULL || nargs != c->n)
        return PyObject_Vectorcall((PyObject *)c->type, args, nargsf, kwnames);
    PyObject *obj = c->type->tp_alloc(c->type, 0);
    if (obj == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < nargs; i++) {
        PyObject **slot = (PyObject **)((char *)obj + c->offsets[i]);
        Py_INCREF(args[i]);
        Py_XSETREF(*slot, args[i]);
    }
    return obj;
}

static void ctor_dealloc(PyObject *self) {
    Ctor *c = (Ctor *)self;
    Py_XDECREF(c->type);
    PyObject_Free(self);
}

static PyObject *ctor_repr(PyObject *self) {
    return PyUnicode_FromFormat("<constructor of %s>", ((Ctor *)self)->type->tp_name);
}

static PyTypeObject CtorType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "cimflow._records.Constructor",
    .tp_basicsize = sizeof(Ctor) - sizeof(Py_ssize_t),
    .tp_itemsize = sizeof(Py_ssize_t),
    .tp_dealloc = ctor_dealloc,
    .tp_vectorcall_offset = offsetof(Ctor, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_repr = ctor_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "A positional constructor of a slots class (see cimflow.records).",
};

PyDoc_STRVAR(constructor_doc, "constructor($module, cls, names, /)\n--\n\n"
                              "A callable that makes an instance of cls from exactly len(names) positional\n"
                              "values stored in the slots named (each a writable object slot of cls), and\n"
                              "calls cls itself for any other arguments.");

static PyObject *constructor(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 2 || !PyType_Check(args[0]) || !PyTuple_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "constructor(cls: type, names: tuple[str, ...])");
        return NULL;
    }
    PyTypeObject *type = (PyTypeObject *)args[0];
    PyObject *names = args[1];
    Py_ssize_t n = PyTuple_GET_SIZE(names);
    if (type->tp_itemsize != 0 || type->tp_dictoffset != 0 || type->tp_alloc == NULL) {
        PyErr_Format(PyExc_TypeError, "%s: only fixed-size classes with slots and no __dict__", type->tp_name);
        return NULL;
    }
    Ctor *c = PyObject_NewVar(Ctor, &CtorType, n > 0 ? n : 1);
    if (c == NULL)
        return NULL;
    c->vectorcall = ctor_vectorcall;
    c->type = (PyTypeObject *)Py_NewRef(type);
    c->n = n;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *name = PyTuple_GET_ITEM(names, i);
        PyObject *descr = PyObject_GetAttr((PyObject *)type, name);
        if (descr == NULL) {
            Py_DECREF(c);
            return NULL;
        }
        int ok = Py_IS_TYPE(descr, &PyMemberDescr_Type);
        if (ok) {
            PyMemberDescrObject *md = (PyMemberDescrObject *)descr;
            ok = md->d_member->type == T_OBJECT_EX && !(md->d_member->flags & READONLY) &&
                 PyType_IsSubtype(type, md->d_common.d_type) && md->d_member->offset > 0 &&
                 (size_t)md->d_member->offset + sizeof(PyObject *) <= (size_t)type->tp_basicsize;
            if (ok)
                c->offsets[i] = md->d_member->offset;
        }
        Py_DECREF(descr);
        if (!ok) {
            PyErr_Format(PyExc_TypeError, "%s.%U is not a writable object slot", type->tp_name, name);
            Py_DECREF(c);
            return NULL;
        }
    }
    return (PyObject *)c;
}

static PyMethodDef methods[] = {
    {"constructor", (PyCFunction)(void (*)(void))constructor, METH_FASTCALL, constructor_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "cimflow._records",
    .m_doc = "Positional constructors for slots classes (cimflow.records).",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__records(void) {
    if (PyType_Ready(&CtorType) < 0)
        return NULL;
    return PyModule_Create(&module);
}
