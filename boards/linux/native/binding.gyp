{
  "targets": [
    {
      "target_name": "i2c_dev",
      "sources": ["i2c_dev.c"],
      "conditions": [
        ["OS!='linux'", { "type": "none", "sources!": ["i2c_dev.c"] }]
      ],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
