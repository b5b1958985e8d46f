{
  "targets": [
    {
      "target_name": "vxmesh_native",
      "sources": ["native/vxmesh_native.c"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
