#!/bin/sh
echo installing nginx
