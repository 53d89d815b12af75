#!/bin/sh
echo enabling tls
